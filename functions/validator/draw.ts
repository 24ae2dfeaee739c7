import type { ValidationItem, ValidationTask } from "./types.ts";

/**
 * A task's hidden items for an epoch, made one at a time with a turn of the event loop between them. In the local
 * market the validator shares its thread with the API and the settler: the eight 5 s speech clips of an epoch took
 * ~100 ms made in one go, the longest stall of every request in flight during an epoch. The items are those of
 * `drawItems`, in its order.
 */
export async function drawItemsYielding(task: ValidationTask, seed: string, count: number): Promise<ValidationItem[]> {
  const items: ValidationItem[] = [];
  for (const item of task.drawItemsOneByOne?.(seed, count) ?? task.drawItems(seed, count)) {
    items.push(item);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return items;
}

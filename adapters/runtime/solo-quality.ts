import type { ExpertModel } from "../../core/ports/runtime.ts";
import { meanQuality, type Quality } from "../../core/tasks/metrics.ts";
import type { AnyTask } from "../../core/tasks/task.ts";
import type { ValidationItem } from "../../core/tasks/validation.ts";

/** Mean quality of one expert answering alone (no ensemble), over validation items; one runBatch call. */
export async function soloQuality(
  task: AnyTask,
  model: ExpertModel,
  items: readonly ValidationItem<unknown, unknown>[],
): Promise<Quality> {
  const outputs = await model.runBatch(items.map((i) => i.input));
  return meanQuality(
    items.map((item, k) => {
      const parsed = task.outputSchema.safeParse(outputs[k]);
      // An invalid answer scores as the uninformed prior would, not as a crash.
      return task.quality(parsed.success ? parsed.data : task.uniformPrior(item.input), item.label);
    }),
  );
}

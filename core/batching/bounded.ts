/**
 * Runs `run` over `items`, at most `limit` at a time (at least one), in order of start. Rejects with the first error;
 * the other lanes still go through the rest of the list, and their errors are dropped. A caller that wants to know
 * of every failure catches inside `run`. `stop`, checked before each start, leaves the rest unstarted.
 *
 * Why bounded: hundreds of calls started at once take every socket of a shared client, and calls queued behind them
 * time out waiting (the AWS SDK's connection timeout counts the wait for a socket).
 */
export async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let index = next++; index < items.length && !stop(); index = next++) await run(items[index] as T);
  };
  const lanes = Number.isFinite(limit) ? Math.max(1, Math.min(Math.floor(limit), items.length)) : 1;
  await Promise.all(Array.from({ length: lanes }, lane));
}

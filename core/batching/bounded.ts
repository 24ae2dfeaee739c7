/**
 * Runs `run` over `items`, at most `limit` at a time, in order of start. Rejects with the first error (the other lanes
 * go on with what they hold), so a caller that wants every item tried catches inside `run`. `stop`, checked before
 * each start, leaves the rest unstarted.
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
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

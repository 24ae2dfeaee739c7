// Wraps a JobStore so that a benchmark or test can await the moment `count` jobs have been completed through it.
import type { ExpertAnswer } from "../../core/jobs/schema.ts";
import type { JobStore } from "../../core/ports/jobs.ts";

export function completionCounter(inner: JobStore, count: number): { store: JobStore; done: Promise<void> } {
  let completed = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const store: JobStore = {
    create: (job) => inner.create(job),
    createMany: (jobs) => inner.createMany(jobs),
    get: (id) => inner.get(id),
    getMany: (ids) => inner.getMany(ids),
    markRunning: (id, w, at, claim) => inner.markRunning(id, w, at, claim),
    fail: (id, e, at) => inner.fail(id, e, at),
    cancel: (id, at) => inner.cancel(id, at),
    expire: (id, at) => inner.expire(id, at),
    async completeMany(entries) {
      const results = await inner.completeMany(entries);
      for (const result of results)
        if (result.status === "fulfilled" && result.value.ok && ++completed === count) resolve();
      return results;
    },
    async complete(id, answer: ExpertAnswer, at) {
      const result = await inner.complete(id, answer, at);
      if (result.ok && ++completed === count) resolve();
      return result;
    },
  };
  return { store, done };
}

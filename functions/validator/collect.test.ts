import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { silentLogger } from "../../adapters/log/logger.ts";
import { MemoryJobStore } from "../../adapters/tables/memory-jobs.ts";
import { JobMessage, type JobRecord } from "../../core/jobs/schema.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import { countedCalls } from "../../gpu-workers/testing/counted-calls.ts";
import { collectAnswers, EXPIRE_BUDGET_MS, EXPIRE_CONCURRENCY } from "./collect.ts";
import type { ScoredExpert, ValidatorDeps } from "./types.ts";

const EXPERTS: ScoredExpert[] = [1, 2].map((uid) => ({
  uid,
  hotkey: signerFromUri(`//collect-test//${uid}`).address,
  task: "toy",
  modelSha256: "0".repeat(64),
}));
const ITEMS = [0, 1, 2].map((i) => ({ input: { x: i }, truth: i }));

/** A validator's deps around `jobs`, with a clock its polls advance and a queue that keeps what it is sent. */
function depsOf(jobs: JobStore) {
  let now = 1_800_000_000_000;
  const sent: JobMessage[] = [];
  const deps = {
    signer: signerFromUri("//collect-test//validator"),
    verifier: sr25519Verifier,
    workerKeys: [],
    queue: {
      sendMany: async (bodies: readonly string[]) => {
        for (const body of bodies) sent.push(JobMessage.parse(JSON.parse(body)));
      },
    },
    jobs,
    log: silentLogger,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    config: { answerTimeoutMs: 2_000 },
  } as unknown as ValidatorDeps;
  return { deps, sent };
}

beforeAll(async () => {
  await identityReady();
});

describe("collectAnswers", () => {
  it("creates an epoch's jobs in one call, sends each once, and counts none unanswered", async () => {
    const { counted: store, calls } = countedCalls(new MemoryJobStore());
    const { deps, sent } = depsOf(store);
    const collected = await collectAnswers(deps, "val:1:7:toy:v", "toy", EXPERTS, ITEMS);
    expect(collected).toMatchObject({ sent: 6, answered: 0, rejected: 0 });
    expect(calls.createMany).toBe(1);
    expect(calls.create).toBeUndefined();
    expect(sent.map((m) => m.jobId).sort()).toEqual(
      EXPERTS.flatMap((e) => ITEMS.map((_, i) => `val:1:7:toy:v:${i}:${e.uid}`)).sort(),
    );
    const stored = await store.getMany(sent.map((m) => m.jobId));
    expect(stored.map((r) => [r.kind, r.inputDigest !== undefined])).toEqual(sent.map(() => ["validation", true]));
  });

  it("on a rerun of the same epoch, sends again only the jobs still queued and leaves the others as they are", async () => {
    const jobs = new MemoryJobStore();
    const id = (i: number, uid: number) => `val:1:8:toy:v:${i}:${uid}`;
    const record = (jobId: string): JobRecord => ({
      jobId,
      requestId: "val:1:8:toy:v",
      kind: "validation",
      task: "toy",
      uid: 1,
      hotkey: EXPERTS[0]?.hotkey ?? "",
      status: "queued",
      createdAt: 1,
      deadline: 2,
      attempts: 0,
    });
    // As a crash of the first run left them: created but never sent, running, failed; the rest never created.
    for (const jobId of [id(0, 1), id(1, 1), id(2, 1)]) await jobs.create(record(jobId));
    expect((await jobs.markRunning(id(1, 1), "w1", 1)).ok).toBe(true);
    expect((await jobs.fail(id(2, 1), { code: "model_error", message: "x", retryable: false }, 1)).ok).toBe(true);
    const failed = await jobs.get(id(2, 1));
    const { deps, sent } = depsOf(jobs);
    const again = await collectAnswers(deps, "val:1:8:toy:v", "toy", EXPERTS, ITEMS);
    expect(sent.map((m) => m.jobId).sort()).toEqual([id(0, 1), id(0, 2), id(1, 2), id(2, 2)].sort());
    expect(again.sent).toBe(4);
    expect(await jobs.get(id(2, 1))).toEqual(failed);
  });

  it("expires the late jobs a few at a time, and stops at the first failure with one warning", async () => {
    const jobs = new MemoryJobStore();
    let inFlight = 0;
    let most = 0;
    let failing = false;
    const expired: string[] = [];
    const store = Object.assign(Object.create(jobs) as JobStore, {
      expire: async (jobId: string, at: number) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        if (failing) throw new Error("table unreachable");
        expired.push(jobId);
        return jobs.expire(jobId, at);
      },
    });
    const { deps } = depsOf(store);
    // Nothing answers: all 6 jobs are late when the deadline passes.
    await collectAnswers(deps, "val:1:9:toy:v", "toy", EXPERTS, ITEMS);
    expect(expired).toHaveLength(6);
    expect(most).toBe(EXPIRE_CONCURRENCY);
    expect((await jobs.getMany(expired)).map((r) => r.status)).toEqual(expired.map(() => "expired"));

    failing = true;
    expired.length = 0;
    const warnings: [string, Record<string, unknown>][] = [];
    const tried = { count: 0 };
    const failingStore = Object.assign(Object.create(store) as JobStore, {
      expire: async (jobId: string, at: number) => {
        tried.count++;
        return store.expire(jobId, at);
      },
    });
    const { deps: failingDeps } = depsOf(failingStore);
    const logged = {
      ...failingDeps,
      log: { ...silentLogger, warn: (msg: string, f: Record<string, unknown>) => void warnings.push([msg, f]) },
    } as ValidatorDeps;
    await collectAnswers(logged, "val:1:10:toy:v", "toy", EXPERTS, ITEMS);
    // The lanes already running finish; none starts after the failure.
    expect(tried.count).toBe(EXPIRE_CONCURRENCY);
    expect(warnings).toEqual([
      ["late jobs left to expire on their own", expect.objectContaining({ late: 6, expired: 0 })],
    ]);
  });

  it("spends at most EXPIRE_BUDGET_MS expiring late jobs, and leaves the rest to the workers", async () => {
    const jobs = new MemoryJobStore();
    const started: string[] = [];
    let clock: ValidatorDeps | undefined;
    // Each expiry takes 0.3 of the budget on the validator's clock, once all four lanes have started.
    const slow = Object.assign(Object.create(jobs) as JobStore, {
      expire: async (jobId: string, at: number) => {
        started.push(jobId);
        await Promise.resolve();
        await clock?.sleep(EXPIRE_BUDGET_MS * 0.3);
        return jobs.expire(jobId, at);
      },
    });
    const warnings: [string, Record<string, unknown>][] = [];
    const { deps } = depsOf(slow);
    clock = {
      ...deps,
      log: { ...silentLogger, warn: (msg: string, f: Record<string, unknown>) => void warnings.push([msg, f]) },
    } as ValidatorDeps;
    await collectAnswers(clock, "val:1:11:toy:v", "toy", EXPERTS, ITEMS);
    // Four start at once and end 1.2 budgets later: none starts after them.
    expect(started).toHaveLength(EXPIRE_CONCURRENCY);
    expect(warnings).toEqual([["late jobs left to expire on their own", { late: 6, expired: 4, error: undefined }]]);
  });
});

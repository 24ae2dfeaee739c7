// Acceptance: poison and unrecoverable messages reach the dead-letter queue with their reason (SQS + DynamoDB emulators).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { silentLogger } from "../adapters/log/logger.ts";
import type { QueueMessage } from "../adapters/queue/message.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import type { ExpertRuntime } from "../core/ports/runtime.ts";
import { countingRuntime } from "../gpu-workers/testing/counting-runtime.ts";
import { type EmulatedJobs, startEmulatedJobs } from "../gpu-workers/testing/emulated-queue.ts";
import { valuesOf } from "../gpu-workers/testing/fake-runtime.ts";
import { makeJob, taggedPixels, waitFor } from "../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../gpu-workers/testing/mlp-expert.ts";
import { startWorker } from "../gpu-workers/worker.ts";

const MAX_RECEIVES = 3;
const POISON_TAG = 666;
let stack: EmulatedJobs;
let dir: string;

beforeAll(async () => {
  await identityReady();
  dir = await mkdtemp(join(tmpdir(), "worker-dlq-"));
  stack = await startEmulatedJobs({ visibilitySeconds: 2, maxReceiveCount: MAX_RECEIVES });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The real model, except that it crashes on the poison input (a model bug that no retry fixes). */
function crashOnPoison(inner: ExpertRuntime): ExpertRuntime {
  return {
    async load(manifest) {
      const model = await inner.load(manifest);
      return {
        ...model,
        manifest: model.manifest,
        provider: model.provider,
        runBatch: (inputs) =>
          inputs.some((x) => Math.round(Number(valuesOf(x)[0]) * 1_000_000) === POISON_TAG)
            ? Promise.reject(new Error("segfault in custom op"))
            : model.runBatch(inputs),
        close: () => model.close(),
      };
    },
  };
}

async function drainDlq(expected: number): Promise<QueueMessage[]> {
  const seen: QueueMessage[] = [];
  await waitFor(
    `${expected} dead letters`,
    async () => {
      for (const m of await stack.dlq.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 60 })) seen.push(m);
      return seen.length >= expected;
    },
    30_000,
    200,
  );
  return seen;
}

describe("dead-letter queue", () => {
  it("a job whose model always crashes is dead-lettered after maxReceives deliveries with its reason; a malformed one at once", async () => {
    const manifest = await writeMlpExpert(dir, "mlp-dlq");
    const runtime = countingRuntime(crashOnPoison(createOnnxRuntime({ preferCuda: false, log: () => {} })));
    const poison = makeJob({ jobId: "poison", hotkey: manifest.hotkey, input: taggedPixels(POISON_TAG) });
    const wrongShape = makeJob({ jobId: "wrong-shape", hotkey: manifest.hotkey, input: [0.1, 0.2] });
    const fine = makeJob({ jobId: "fine", hotkey: manifest.hotkey, input: taggedPixels(1) });
    for (const j of [poison, wrongShape, fine]) await stack.jobs.create(j.record);
    await stack.queue.sendMany([poison.body, wrongShape.body, fine.body, "{not json"]);

    const worker = await startWorker(
      {
        workerId: "dlq-worker",
        experts: [manifest],
        waitSeconds: 1,
        visibilitySeconds: 2,
        heartbeatSeconds: 0.5,
        maxReceives: MAX_RECEIVES,
        retryDelaySeconds: 0,
        batch: { maxBatchSize: 8, maxQueueDelayMs: 5 },
      },
      {
        queue: stack.queue,
        jobs: stack.jobs,
        runtime,
        verifier: sr25519Verifier,
        servingKey: signerFromUri("//test//serving"),
        logger: silentLogger,
      },
    );
    try {
      const dead = await drainDlq(3);
      const byReason = new Map(dead.map((m) => [m.attributes.reason?.split(":")[0], m]));
      expect([...byReason.keys()].sort()).toEqual(["bad_input", "bad_message", "retries_exhausted"]);

      const exhausted = byReason.get("retries_exhausted");
      expect(exhausted?.body).toBe(poison.body);
      expect(exhausted?.attributes.reason).toContain("segfault in custom op");
      expect(exhausted?.attributes.receiveCount).toBe(String(MAX_RECEIVES));
      // Run on every delivery (plus once alone when its first batch also held the good job).
      expect(runtime.runsByTag.get(POISON_TAG)).toBeGreaterThanOrEqual(MAX_RECEIVES);
      expect(await stack.jobs.get("poison")).toMatchObject({
        status: "failed",
        attempts: MAX_RECEIVES,
        error: { code: "retries_exhausted", retryable: true },
      });

      // Unrecoverable: moved on its first delivery, never run.
      expect(byReason.get("bad_input")?.attributes.receiveCount).toBe("1");
      expect(byReason.get("bad_message")?.attributes.receiveCount).toBe("1");
      expect(await stack.jobs.get("wrong-shape")).toMatchObject({ status: "failed", error: { code: "bad_input" } });

      expect((await stack.jobs.get("fine"))?.status).toBe("succeeded");
      await waitFor("queue empty", async () => {
        const depth = await stack.queue.depth();
        return depth.visible === 0 && depth.inFlight === 0;
      });
      expect(worker.metrics().counters.deadLettered).toBe(3);
    } finally {
      await worker.stop();
    }
  });
});

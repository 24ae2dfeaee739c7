// Acceptance: a worker process killed with SIGKILL mid-batch loses no job. Real child processes of
// gpu-workers/main.ts on the SQS and DynamoDB emulators, with a real ONNX model.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { identityReady } from "../adapters/identity/sr25519.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import { createAll, type EmulatedJobs, getAll, startEmulatedJobs } from "../gpu-workers/testing/emulated-queue.ts";
import { makeJob, taggedPixels, waitFor } from "../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../gpu-workers/testing/mlp-expert.ts";

const JOBS = 30;
let stack: EmulatedJobs;
let dir: string;
let manifest: ExpertManifest;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await identityReady();
  dir = await mkdtemp(join(tmpdir(), "worker-crash-"));
  manifest = await writeMlpExpert(dir, "mlp-crash");
  stack = await startEmulatedJobs({ visibilitySeconds: 2, maxReceiveCount: 5 });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface SpawnedWorker {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
}

const Listening = z.object({ msg: z.literal("listening"), port: z.number().int() });

async function spawnWorker(workerId: string, env: Record<string, string>): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, ["--import", "tsx", "gpu-workers/main.ts"], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...stack.env,
      WORKER_ID: workerId,
      WORKER_EXPERTS_DIR: dir,
      WORKER_PREFER_CUDA: "false",
      WORKER_VISIBILITY_SECONDS: "2",
      WORKER_HEARTBEAT_SECONDS: "0.5",
      WORKER_WAIT_SECONDS: "1",
      WORKER_MAX_RECEIVES: "5",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${workerId} did not start: ${stderr}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const parsed = Listening.safeParse(JSON.parse(line));
          if (parsed.success) {
            clearTimeout(timer);
            resolve(parsed.data.port);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.once("exit", (code) => reject(new Error(`${workerId} exited with ${code}: ${stderr}`)));
  });
  return { child, port, exited };
}

const Metrics = z.object({
  inFlight: z.number(),
  inferenceItems: z.number(),
  counters: z.object({ succeeded: z.number(), duplicatesSkipped: z.number() }),
});

async function metricsOf(worker: SpawnedWorker) {
  const res = await fetch(`http://127.0.0.1:${worker.port}/metrics`, { headers: { accept: "application/json" } });
  return Metrics.parse(await res.json());
}

describe("worker crash", () => {
  it("a worker killed with SIGKILL mid-batch loses no job: another worker finishes each one exactly once", async () => {
    const made = Array.from({ length: JOBS }, (_, i) =>
      makeJob({ jobId: `crash-${i}`, hotkey: manifest.hotkey, input: taggedPixels(i) }),
    );
    await createAll(
      stack.jobs,
      made.map((j) => j.record),
    );
    await stack.queue.sendMany(made.map((j) => j.body));
    const ids = made.map((j) => j.record.jobId);

    // Worker A waits (up to 60 s) for a batch of 64 that never fills: every job sits in its batcher, mid-batch.
    const a = await spawnWorker("crash-a", {
      WORKER_BATCH_MAX: "64",
      WORKER_BATCH_PREFERRED: "64",
      WORKER_BATCH_DELAY_MS: "60000",
      WORKER_CONCURRENCY: "64",
    });
    // Received and marked running (then submitted to the batcher in the same tick): A is mid-batch on every job.
    await waitFor(
      "A holds every job",
      async () =>
        (await metricsOf(a)).inFlight === JOBS && (await getAll(stack.jobs, ids)).every((r) => r.status === "running"),
      20_000,
      100,
    );
    a.child.kill("SIGKILL");
    expect(await a.exited).toBeNull();

    const b = await spawnWorker("crash-b", { WORKER_BATCH_MAX: "16", WORKER_BATCH_DELAY_MS: "5" });
    const records = await waitFor(
      "B finishes every job",
      async () => {
        const all = await getAll(stack.jobs, ids);
        return all.length === JOBS && all.every((r) => r.status === "succeeded") && all;
      },
      30_000,
      200,
    );
    for (const record of records) {
      expect(record.answer?.workerId).toBe("crash-b");
      // Started by A, then again by B after the visibility timeout brought the message back.
      expect(record.attempts).toBeGreaterThanOrEqual(2);
    }
    const metrics = await metricsOf(b);
    expect(metrics.counters.succeeded).toBe(JOBS);
    expect(metrics.inferenceItems).toBe(JOBS);
    await waitFor("queue empty", async () => {
      const depth = await stack.queue.depth();
      return depth.visible === 0 && depth.inFlight === 0;
    });
    expect(await stack.dlq.receive({ max: 10, waitSeconds: 0 })).toEqual([]);

    // And a graceful stop: SIGTERM drains and exits 0.
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
  });
});

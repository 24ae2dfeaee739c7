// Issue 13 item 2, with real queue access (fauxqs + dynalite): someone who can send to the jobs queue, and nothing
// else, can neither answer a victim's paid query on another input, nor kill its job, nor have an unsigned validation
// job answered.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { silentLogger } from "../adapters/log/logger.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { createMarketClient } from "../client/client.ts";
import { signEpistula } from "../core/epistula/epistula.ts";
import { requestSignedText } from "../core/jobs/integrity.ts";
import { encodeJobInput, inputDigest } from "../core/jobs/job-input.ts";
import type { JobMessage } from "../core/jobs/schema.ts";
import { waitFor } from "../gpu-workers/testing/jobs.ts";
import { type RunningWorker, startWorker } from "../gpu-workers/worker.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

let market: EphemeralMarket;
let worker: RunningWorker | undefined;
/** The test worker's serving key: the one key the market trusts answers from (MARKET_WORKER_KEYS). */
const SERVING_URI = "//integrity-test//serving";

beforeAll(async () => {
  await identityReady();
  // No workers yet: the attacker's messages are in the queue before any worker looks.
  market = await startEphemeralMarket({
    workers: "none",
    env: { MARKET_WORKER_KEYS: signerFromUri(SERVING_URI).address },
  });
});
afterAll(async () => {
  await worker?.stop();
  await market?.stop();
});

async function digit(label: number): Promise<number[]> {
  const mnist = await loadMnist();
  const row = mnist.labels.indexOf(label);
  return Array.from(mnist.pixels.subarray(row * 784, (row + 1) * 784));
}

describe("forged job messages", () => {
  it("a substituted input, a jobId-only kill and an unsigned validation job change nothing", async () => {
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "victim", credits: 100_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const victim = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const victimPixels = await digit(3);
    const submitted = await victim.infer("digits", { pixels: victimPixels }, { k: 1, waitSeconds: 0 });
    if (!submitted.ok) throw new Error(JSON.stringify(submitted.problem));
    const requestId = submitted.data.id;
    const { queue, jobs, requests } = market.dataPlane;

    // The attacker takes the victim's message off the queue for a few seconds and sends a copy on its own input
    // (the "forged substitute"), then a message that holds only the victim's jobId (the "kill").
    const [stolen] = await queue.receive({ max: 1, waitSeconds: 5, visibilitySeconds: 4 });
    if (!stolen) throw new Error("the victim's message is not on the queue");
    const original = JSON.parse(stolen.body) as JobMessage;
    expect(original.requestId).toBe(requestId);
    const attackerInput = (await digit(7)).map((p) => p);
    const substitute = encodeJobInput(attackerInput).wire;
    expect(substitute).toHaveProperty("tensor");
    await queue.send(JSON.stringify({ ...original, ...substitute }));
    await queue.send(JSON.stringify({ jobId: original.jobId }));

    // A validation job as the validator records it, re-sent without its signature; and a signed one (control).
    const now = Date.now();
    const validation = (jobId: string) => ({
      jobId,
      requestId: "val-attack",
      kind: "validation" as const,
      task: "digits",
      uid: original.uid,
      hotkey: original.hotkey,
      deadline: now + 60_000,
    });
    for (const jobId of ["val-attack:0", "val-attack:1"]) {
      await jobs.create({
        ...validation(jobId),
        inputDigest: inputDigest(victimPixels),
        status: "queued",
        createdAt: now,
        attempts: 0,
      });
    }
    const message = (jobId: string): JobMessage => ({
      v: 1,
      ...validation(jobId),
      input: victimPixels,
      enqueuedAt: now,
    });
    await queue.send(JSON.stringify(message("val-attack:0")));
    const signedBody = requestSignedText({
      jobId: "val-attack:1",
      task: "digits",
      uid: original.uid,
      inputDigest: inputDigest(victimPixels),
    });
    const request = signEpistula(market.chain.validator, signedBody, original.hotkey, { now });
    await queue.send(JSON.stringify({ ...message("val-attack:1"), request }));

    worker = await startWorker(
      {
        workerId: "integrity-test",
        expertsDir: join(market.dataDir, "experts"),
        resourcePrefix: market.config.MARKET_RESOURCE_PREFIX,
        gatewayAddress: market.chain.gateway.address,
        trustedSenders: [market.chain.validator.address],
        reloadIntervalMs: 0,
        waitSeconds: 1,
        preferCuda: false,
      },
      {
        queue,
        settleQueue: market.dataPlane.settleQueue,
        jobs,
        requests,
        runtime: createOnnxRuntime({}),
        verifier: sr25519Verifier,
        servingKey: signerFromUri(SERVING_URI),
        logger: silentLogger,
      },
    );
    const running = worker;

    // The victim's query is settled (by the settler: nobody polls) on the victim's own input.
    const settled = await waitFor("victim settled", async () => (await requests.get(requestId))?.result, 60_000, 100);
    expect(settled.status).toBe("succeeded");
    const record = await requests.get(requestId);
    // The one answer, as the result holds it (its worker's notice carried it unstored, issue 17: no job record).
    expect(settled.experts).toHaveLength(1);
    const [answered] = settled.experts;
    const body = JSON.parse(answered?.signedBody ?? "{}") as Record<string, unknown>;
    expect(body.inputDigest).toBe(inputDigest(victimPixels));
    // Signed by the worker's serving key, binding the miner's hotkey and its model (issue 15).
    expect(answered?.signedBy).toBe(signerFromUri(SERVING_URI).address);
    expect(body).toMatchObject({ jobId: original.jobId, hotkey: original.hotkey });
    expect(body.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record?.inputDigest).toBe(inputDigest(victimPixels));
    expect(settled.receipt?.payload.inputSha256).toBe(inputDigest(victimPixels));
    await waitFor(
      "signed validation job answered",
      async () => (await jobs.get("val-attack:1"))?.status === "succeeded",
    );
    expect(await jobs.get("val-attack:0")).toMatchObject({ status: "queued", attempts: 0 });
    // The signed validation job ran the victim's expert on the victim's input: the victim got exactly that answer.
    const expected = (await jobs.get("val-attack:1"))?.answer?.output as { probs: number[] };
    const got = settled.output as { probs: number[] };
    expect(got.probs).toHaveLength(10);
    for (const [i, p] of got.probs.entries()) expect(p).toBeCloseTo(expected.probs[i] ?? Number.NaN, 9);
    const metrics = running.metrics();
    expect(metrics.counters.dropped).toBe(2);
    expect(metrics.errorsByCode).toMatchObject({ input_mismatch: 1, unsigned_validation_job: 1, bad_message: 1 });
  });
});

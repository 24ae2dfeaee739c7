import { signerFromUri } from "../../../adapters/identity/sr25519.ts";
import { signAnswerBatch } from "../../../core/jobs/answer-batch.ts";
import { answerBodyText, claimOf } from "../../../core/jobs/integrity.ts";
import { decodeJobInput } from "../../../core/jobs/job-input.ts";
import { JobMessage } from "../../../core/jobs/schema.ts";
import type { JobStore } from "../../../core/ports/jobs.ts";
import type { JobQueue } from "../../../core/ports/queue.ts";
import type { Signer } from "../../../core/ports/signer.ts";
import type { DirectoryExpert, ExpertDirectory } from "../deps.ts";

export interface FakeExpert extends DirectoryExpert {
  readonly signer: Signer;
}

/** Experts with real sr25519 hotkeys (call identityReady() first). */
export function fakeExperts(n: number, task = "digits"): FakeExpert[] {
  return Array.from({ length: n }, (_, uid) => {
    const signer = signerFromUri(`//Expert${uid}`);
    return {
      uid,
      hotkey: signer.address,
      task,
      weight: (n - uid) / n,
      incentive: 0.1,
      shapley: 0.05 * (n - uid),
      active: true,
      signer,
    };
  });
}

/** The stand-in worker's serving key URI: the key the fake workers sign with (trust its address in tests). */
export const FAKE_WORKER_URI = "//FakeWorker";
/** The fake experts' model digest (a stand-in: no model runs). */
export const FAKE_MODEL_SHA = "0".repeat(64);

export function staticDirectory(experts: readonly DirectoryExpert[]): ExpertDirectory {
  const view = experts.map(({ uid, hotkey, task, weight, incentive, shapley, active }) => ({
    uid,
    hotkey,
    task,
    weight,
    incentive,
    shapley,
    active,
  }));
  return {
    experts: async (task) => view.filter((e) => task === undefined || e.task === task),
    metagraph: async () => ({ netuid: 1, block: 100, experts: view }),
  };
}

/** `no_proof`: a batch signature with no inclusion proof; `foreign_proof`: the proof of another answer of its batch. */
export type Misbehaviour = "none" | "wrong_signer" | "tampered" | "fail" | "no_proof" | "foreign_proof";

/** A digit "model": class = round(mean pixel * 9), with some mass elsewhere. */
export function fakeDigitOutput(input: unknown): { probs: number[] } {
  const values: unknown[] = input instanceof Float32Array ? Array.from(input) : Array.isArray(input) ? input : [];
  const pixels = values.filter((x): x is number => typeof x === "number");
  const mean = pixels.length ? pixels.reduce((s, x) => s + x, 0) / pixels.length : 0;
  const cls = Math.min(9, Math.max(0, Math.round(mean * 9)));
  return { probs: Array.from({ length: 10 }, (_, c) => (c === cls ? 0.91 : 0.01)) };
}

/**
 * A stand-in worker: takes messages off the queue and stores a signed answer through the JobStore, as the real
 * GPU worker does (body = {jobId, uid, hotkey, modelSha256, inputDigest, output} signed by the worker's serving key).
 */
export async function answerQueuedJobs(
  queue: JobQueue,
  jobs: JobStore,
  experts: readonly FakeExpert[],
  options: {
    readonly max?: number;
    readonly waitSeconds?: number;
    readonly behave?: (uid: number) => Misbehaviour;
  } = {},
): Promise<number> {
  const messages = await queue.receive({ max: options.max ?? 10, waitSeconds: options.waitSeconds ?? 0 });
  let answered = 0;
  for (const m of messages) {
    const parsed = JobMessage.safeParse(JSON.parse(m.body));
    if (!parsed.success) {
      await queue.delete(m.receipt);
      continue;
    }
    const job = parsed.data;
    const expert = experts.find((e) => e.uid === job.uid);
    const behaviour = options.behave?.(job.uid) ?? "none";
    const now = Date.now();
    // As the real worker reads it: a tensor decoded from its float32 bytes, digested over them.
    const { input, digest } = decodeJobInput(job);
    // Paid jobs have no record until their first terminal write (core/ports/jobs.ts): the stand-in makes one, so
    // that tests can see a job running.
    await jobs.create({
      jobId: job.jobId,
      ...claimOf(job, digest),
      status: "queued",
      createdAt: now,
      deadline: job.deadline,
      attempts: 0,
    });
    if (!expert || behaviour === "fail") {
      await jobs.fail(job.jobId, { code: "model_error", message: "fake failure", retryable: false }, now);
    } else {
      const output = fakeDigitOutput(input);
      const signed = {
        jobId: job.jobId,
        uid: job.uid,
        hotkey: job.hotkey,
        modelSha256: FAKE_MODEL_SHA,
        inputDigest: digest,
      };
      const body = answerBodyText({ ...signed, output });
      const signer = behaviour === "wrong_signer" ? signerFromUri("//Impostor") : signerFromUri(FAKE_WORKER_URI);
      const other = answerBodyText({ ...signed, jobId: `${job.jobId}:other`, output });
      const batch = signAnswerBatch(signer, behaviour === "foreign_proof" ? [body, other] : [body], "", now);
      const signedAnswer = batch[0];
      const proof = behaviour === "foreign_proof" ? batch[1]?.proof : signedAnswer?.proof;
      if (signedAnswer === undefined) throw new Error("a batch signs each of its answers");
      const stored =
        behaviour === "tampered" ? answerBodyText({ ...signed, output: { probs: [...output.probs].reverse() } }) : body;
      await jobs.markRunning(job.jobId, "fake-worker", now);
      await jobs.complete(
        job.jobId,
        {
          body: stored,
          output,
          signature: signedAnswer.signature,
          ...(behaviour === "no_proof" || proof === undefined ? {} : { proof }),
          modelSha256: FAKE_MODEL_SHA,
          inferenceMs: 1,
          batchSize: 1,
          workerId: "fake-worker",
        },
        now,
      );
      answered++;
    }
    await queue.delete(m.receipt);
  }
  return answered;
}

// Test helpers shared by the worker's unit tests, integration tests and benchmark (not used in production code).
import { nodeBytes } from "../../adapters/bytes/node-bytes.ts";
import { signEpistula } from "../../core/epistula/epistula.ts";
import { requestSignedText } from "../../core/jobs/integrity.ts";
import { encodeJobInput } from "../../core/jobs/job-input.ts";
import type { JobMessage, JobRecord } from "../../core/jobs/schema.ts";
import type { Signer } from "../../core/ports/signer.ts";

export interface TestJob {
  readonly record: JobRecord;
  readonly message: JobMessage;
  readonly body: string;
}

/**
 * A queued job record (with its input's digest, as the gateway and validator write it) and its queue message for
 * expert `hotkey`; signed by `sender` when given.
 */
export function makeJob(opts: {
  jobId: string;
  hotkey: string;
  input: unknown;
  task?: string;
  uid?: number;
  now?: number;
  deadlineMs?: number;
  sender?: Signer;
  kind?: JobRecord["kind"];
}): TestJob {
  const kind = opts.kind ?? "paid";
  const now = opts.now ?? Date.now();
  const task = opts.task ?? "digits";
  const uid = opts.uid ?? 1;
  const deadline = now + (opts.deadlineMs ?? 120_000);
  // As the gateway and the validator send it: a tensor as base64 float32 bytes, digested over those bytes.
  const { wire, digest } = encodeJobInput(opts.input, nodeBytes);
  const record: JobRecord = {
    jobId: opts.jobId,
    requestId: `req-${opts.jobId}`,
    kind,
    task,
    uid,
    hotkey: opts.hotkey,
    inputDigest: digest,
    status: "queued",
    createdAt: now,
    deadline,
    attempts: 0,
  };
  const request =
    opts.sender === undefined
      ? undefined
      : signEpistula(
          opts.sender,
          requestSignedText({ jobId: opts.jobId, task, uid, inputDigest: digest }),
          opts.hotkey,
          {
            now,
          },
        );
  const message: JobMessage = {
    v: 1,
    jobId: opts.jobId,
    requestId: record.requestId,
    kind,
    task,
    uid,
    hotkey: opts.hotkey,
    ...wire,
    deadline,
    enqueuedAt: now,
    ...(request === undefined ? {} : { request }),
  };
  return { record, message, body: JSON.stringify(message) };
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A 784-float digit-shaped input whose first pixel encodes `n` (so a counting runtime can tell jobs apart). */
export function taggedPixels(n: number): number[] {
  const pixels = new Array<number>(784).fill(0);
  pixels[0] = n / 1_000_000;
  for (let i = 1; i < 784; i += 37) pixels[i] = ((n * 7 + i) % 100) / 100;
  return pixels;
}

import { z } from "zod";
import { AnswerProof, Sha256Hex } from "./integrity.ts";

/** Lifecycle of one expert job (one expert answering one request). */
export const JobStatus = z.enum(["queued", "running", "succeeded", "failed", "canceled", "expired"]);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "canceled", "expired"]);

/** Epistula v2 signature fields over an exact body (PROTOCOL.md section 4). */
export const EpistulaSignature = z.object({
  version: z.literal("2"),
  timestamp: z.string().regex(/^\d{1,16}$/),
  uuid: z.uuid(),
  signedBy: z.string().min(40).max(60),
  signedFor: z.string().max(60),
  /** 0x-prefixed hex sr25519 signature (64 bytes). */
  signature: z.string().regex(/^0x[0-9a-fA-F]{128}$/),
});
export type EpistulaSignature = z.infer<typeof EpistulaSignature>;

/** An expert of a paid query as its gateway signs it: [uid, hotkey] (bounded as a request record's RoutedExpert). */
export const QueryExpert = z.tuple([z.number().int().min(0).max(65535), z.string().min(1).max(64)]);
export type QueryExpert = z.infer<typeof QueryExpert>;

/**
 * A paid query's facts that its workers need, signed once by the gateway for all its jobs (`paidQuerySignedText`,
 * integrity.ts; issue 17): a worker that trusts the gateway's key runs a first delivery on them instead of reading
 * the request record. The request id, task, deadline and input digest the text binds come from the message itself.
 * Bounds as the request record's: k at most 64, at most 4 newcomers in the shadow lane.
 */
export const PaidQuery = z.object({
  createdAt: z.number().int().positive(),
  experts: z.array(QueryExpert).min(1).max(64),
  shadow: z.array(QueryExpert).max(4).optional(),
  signature: EpistulaSignature,
});
export type PaidQuery = z.infer<typeof PaidQuery>;

/**
 * The message that travels on the queue from the gateway or the validator to a worker.
 * The task input, already validated and normalised by the sender (task schema decides its shape), travels as
 * `tensor` (base64 of its little-endian float32 values) when it is an array of numbers, else as JSON `input`
 * (job-input.ts; exactly one of the two, checked where it is decoded).
 * `request` is the Epistula signature of the sender over `requestSignedText` (integrity.ts). `query` is a paid
 * query's facts signed once by its gateway for all its jobs (PaidQuery).
 */
export const JobMessage = z.object({
  v: z.literal(1),
  jobId: z.string().min(1).max(200),
  requestId: z.string().min(1).max(200),
  kind: z.enum(["paid", "validation"]),
  task: z.string().min(1).max(64),
  uid: z.number().int().min(0).max(65535),
  /** ss58 hotkey of the expert that must answer. */
  hotkey: z.string().min(40).max(60),
  input: z.unknown().optional(),
  /** Bounded by the largest queue message (256 KiB); its bytes are only ever decoded, digested and fed. */
  tensor: z
    .string()
    .max(256 * 1024)
    .optional(),
  /** ms since epoch after which the answer is useless; workers skip expired jobs. */
  deadline: z.number().int().positive(),
  enqueuedAt: z.number().int().positive(),
  request: EpistulaSignature.optional(),
  query: PaidQuery.optional(),
});
export type JobMessage = z.infer<typeof JobMessage>;

/** What a worker stores for a finished job. `body` is the exact string the expert signed. */
export const ExpertAnswer = z.object({
  /** JSON text of {jobId, uid, hotkey, modelSha256, inputDigest, output} (integrity.ts): this answer's leaf. */
  body: z.string(),
  output: z.unknown(),
  /** The serving key's signature over its batch's Merkle root (answer-batch.ts), which `proof` ties `body` to. */
  signature: EpistulaSignature,
  /** Optional only so records of older versions still read; readers refuse an answer without one. */
  proof: AnswerProof.optional(),
  modelSha256: z.string().regex(/^[0-9a-f]{64}$/),
  inferenceMs: z.number().nonnegative(),
  batchSize: z.number().int().positive(),
  workerId: z.string(),
});
export type ExpertAnswer = z.infer<typeof ExpertAnswer>;

export const JobError = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });
export type JobError = z.infer<typeof JobError>;

export const JobRecord = z.object({
  jobId: z.string(),
  requestId: z.string(),
  kind: z.enum(["paid", "validation"]),
  task: z.string(),
  uid: z.number().int(),
  hotkey: z.string(),
  /**
   * sha256 of the canonical input the worker must run (integrity.ts), written by the job's creator. Optional only
   * so records of older versions still read; a worker refuses to run a job without it.
   */
  inputDigest: Sha256Hex.optional(),
  status: JobStatus,
  createdAt: z.number().int(),
  deadline: z.number().int(),
  startedAt: z.number().int().optional(),
  finishedAt: z.number().int().optional(),
  /** How many deliveries a worker started (for metrics and poison detection). */
  attempts: z.number().int().nonnegative(),
  workerId: z.string().optional(),
  answer: ExpertAnswer.optional(),
  error: JobError.optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

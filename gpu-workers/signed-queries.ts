import { type EpistulaFailure, verifyEpistula } from "../core/epistula/epistula.ts";
import { paidQuerySignedText } from "../core/jobs/integrity.ts";
import type { QueryFacts } from "../core/jobs/paid-job.ts";
import type { JobMessage } from "../core/jobs/schema.ts";
import type { SignatureVerifier } from "../core/ports/signer.ts";

/** Signatures remembered as verified, at most: the k jobs of a query arrive together and are checked once. */
const REMEMBERED = 1024;

export type SignedQueryCheck =
  | { readonly ok: true; readonly facts: QueryFacts }
  | { readonly ok: false; readonly reason: "absent" | EpistulaFailure };

/**
 * A paid job's query as its gateway signed it in the message (`query`, core/jobs/paid-job.ts `signPaidQuery`; issue
 * 17): a first delivery is checked against these facts instead of its request record, which saves the worker a read
 * on every query's path. The signature binds the request id, task, deadline and input digest of the message (the
 * digest is of the input as received) and the experts it routed and shadows, so a message someone else made, or
 * whose query facts were changed, is refused here and checked against the record as before. What the signature
 * does not bind is checked as on the record path: the job id must be the request's and the expert's (`vouched`),
 * and the expert one the query names. A genuine message sent again within the window runs again (a replay costs
 * the model's time; its answers meet the same first-write-wins and the settler's checks as any duplicate). Only
 * the gateway's key is trusted: its secret is the API's, which writes the request records anyway.
 */
export class SignedQueries {
  /**
   * Signature -> what it was verified over: the text, and the envelope's time, uuid and parties, which the text does
   * not hold (insertion order: the oldest goes first).
   */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly verifier: SignatureVerifier,
    /** The gateway's ss58 address (WORKER_GATEWAY_ADDRESS). */
    private readonly gateway: string,
    /** How old a signature may be: a job waits in the queue before a worker sees it (WorkerConfig.requestMaxAgeMs). */
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  check(job: JobMessage, inputDigest: string): SignedQueryCheck {
    const query = job.query;
    if (query === undefined || job.kind !== "paid") return { ok: false, reason: "absent" };
    const text = paidQuerySignedText({
      requestId: job.requestId,
      task: job.task,
      inputDigest,
      createdAt: query.createdAt,
      deadline: job.deadline,
      experts: query.experts,
      shadow: query.shadow,
    });
    const sig = query.signature;
    const now = this.now();
    const signed = `${sig.timestamp}.${sig.uuid}.${sig.signedBy}.${sig.signedFor}\n${text}`;
    // The same query's other jobs skip the signature check, never the freshness one (on the time it was verified
    // with: one rewritten since is another envelope, checked in full).
    if (this.verified.get(sig.signature) === signed) {
      if (Number(sig.timestamp) + this.maxAgeMs < now) return { ok: false, reason: "stale" };
    } else {
      const result = verifyEpistula(this.verifier, text, sig, {
        now,
        maxAgeMs: this.maxAgeMs,
        expectedSigner: this.gateway,
        signedFor: "",
      });
      if (!result.ok) return result;
      this.remember(sig.signature, signed);
    }
    const expert = ([uid, hotkey]: readonly [number, string]) => ({ uid, hotkey });
    return {
      ok: true,
      facts: {
        requestId: job.requestId,
        task: job.task,
        inputDigest,
        createdAt: query.createdAt,
        deadline: job.deadline,
        experts: query.experts.map(expert),
        ...(query.shadow ? { shadow: query.shadow.map(expert) } : {}),
      },
    };
  }

  private remember(signature: string, signed: string): void {
    if (this.verified.size >= REMEMBERED) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(signature, signed);
  }
}

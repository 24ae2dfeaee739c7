import { nodeBytes } from "../adapters/bytes/node-bytes.ts";
import { type SignedAnswer, signAnswerBatch } from "../core/jobs/answer-batch.ts";
import { MAX_ANSWER_BATCH } from "../core/jobs/integrity.ts";
import type { Signer } from "../core/ports/signer.ts";

interface Waiting {
  readonly resolve: (signed: SignedAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/** Bodies waiting for a signature, by body (the same body asked twice is one leaf, shared). */
type Batch = Map<string, Waiting[]>;

/**
 * Signs answers one batch at a time (issue 17): every body asked for in the same event-loop turn (the answers of a
 * model batch resolve together, so their jobs all get here before the turn ends) goes under one Merkle root and one
 * sr25519 signature, made at `setImmediate`, i.e. without waiting on any timer. Answers addressed to different
 * receivers (`signedFor`: the gateway for paid jobs, the validator for its jobs) are signed as separate batches, so
 * each signature stays bound to the one reader it is for. The same body asked twice in a turn (a job answered by two
 * deliveries at once) is one leaf, shared.
 */
export class AnswerSigner {
  private pending = new Map<string, Batch>();
  private scheduled = false;

  constructor(
    private readonly key: Signer,
    private readonly now: () => number,
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  sign(body: string, signedFor: string): Promise<SignedAnswer> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(signedFor);
      if (batch === undefined) {
        batch = new Map();
        this.pending.set(signedFor, batch);
      }
      const waiting = batch.get(body);
      if (waiting !== undefined) waiting.push({ resolve, reject });
      else batch.set(body, [{ resolve, reject }]);
      if (batch.size >= MAX_ANSWER_BATCH) {
        this.pending.delete(signedFor);
        this.signBatch(signedFor, batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [signedFor, batch] of batches) this.signBatch(signedFor, batch);
  }

  private signBatch(signedFor: string, batch: Batch): void {
    const bodies = [...batch.keys()];
    let signed: SignedAnswer[];
    try {
      signed = signAnswerBatch(this.key, bodies, signedFor, this.now(), nodeBytes);
    } catch (error) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(error);
      return;
    }
    this.onBatch(bodies.length);
    bodies.forEach((body, i) => {
      const answer = signed[i] as SignedAnswer;
      for (const w of batch.get(body) ?? []) w.resolve(answer);
    });
  }
}

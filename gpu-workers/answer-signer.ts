import { type SignedAnswer, signAnswerBatch } from "../core/jobs/answer-batch.ts";
import { MAX_ANSWER_BATCH } from "../core/jobs/integrity.ts";
import type { Signer } from "../core/ports/signer.ts";

interface Waiting {
  readonly resolve: (signed: SignedAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Signs answers one batch at a time (issue 17): every body asked for in the same event-loop turn (the answers of a
 * model batch resolve together, so their jobs all get here before the turn ends) goes under one Merkle root and one
 * sr25519 signature, made at `setImmediate`, i.e. without waiting on any timer. The same body asked twice in a turn
 * (a job answered by two deliveries at once) is one leaf, shared.
 */
export class AnswerSigner {
  private pending = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(
    private readonly key: Signer,
    private readonly now: () => number,
    private readonly onBatch: (size: number) => void = () => {},
  ) {}

  sign(body: string): Promise<SignedAnswer> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(body);
      if (waiting !== undefined) waiting.push({ resolve, reject });
      else this.pending.set(body, [{ resolve, reject }]);
      if (this.pending.size >= MAX_ANSWER_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    if (batch.size === 0) return;
    const bodies = [...batch.keys()];
    let signed: SignedAnswer[];
    try {
      signed = signAnswerBatch(this.key, bodies, this.now());
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

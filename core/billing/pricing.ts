/** Pure pricing rules of a paid query. All amounts are integer micro-credits. */

/** What is held before any job is enqueued: one answer's price per chosen expert. */
export function holdAmount(pricePerAnswer: number, experts: number): number {
  return safeProduct(pricePerAnswer, experts);
}

/** What is charged once the answers are in: only experts whose signed answer was accepted are paid for. */
export function captureAmount(pricePerAnswer: number, answered: number, held: number): number {
  return Math.min(held, safeProduct(pricePerAnswer, answered));
}

function safeProduct(a: number, b: number): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < 0) {
    throw new RangeError("price and count must be non-negative safe integers");
  }
  const p = a * b;
  if (!Number.isSafeInteger(p)) throw new RangeError("amount overflows");
  return p;
}

export interface ShareInput {
  readonly uid: number;
  readonly weight: number;
}

/**
 * Splits a captured cost: the platform keeps `platformCutBps`/10000, the rest is shared among the experts that
 * answered in proportion to their weights (equal split when all weights are zero). Integer shares; the rounding
 * remainder goes to the platform so the parts always add up to `cost` exactly.
 */
export function splitCost(
  cost: number,
  platformCutBps: number,
  experts: readonly ShareInput[],
): { platform: number; experts: { uid: number; amount: number }[] } {
  const cut = Math.min(10_000, Math.max(0, Math.floor(platformCutBps)));
  const pool = Math.floor((cost * (10_000 - cut)) / 10_000);
  const total = experts.reduce((s, e) => s + Math.max(0, e.weight), 0);
  const shares = experts.map((e) => ({
    uid: e.uid,
    amount:
      experts.length === 0 ? 0 : Math.floor(total > 0 ? (pool * Math.max(0, e.weight)) / total : pool / experts.length),
  }));
  const paid = shares.reduce((s, e) => s + e.amount, 0);
  return { platform: cost - paid, experts: shares };
}

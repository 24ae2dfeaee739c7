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
  /** The expert's current weight (any non-negative scale; negative, NaN and infinite count as 0). */
  readonly weight: number;
}

export interface CostSplit {
  readonly platform: number;
  /** One amount per expert given, in the same order. */
  readonly experts: { readonly uid: number; readonly amount: number }[];
}

/** Weights become integers at this resolution so that the split is exact integer arithmetic. */
const WEIGHT_SCALE = 1_000_000_000;

/**
 * Splits a captured cost: the platform keeps `platformCutBps`/10000 of it (rounded up: the rounding remainder of
 * the cut is the platform's), the rest (the pool) is shared among the experts that answered in proportion to their
 * weights, or equally when every weight is 0. The pool is divided by the largest-remainder method in exact integer
 * arithmetic, so the expert shares always add up to the pool exactly and `platform + sum(experts) === cost`: no
 * micro-credit is created or lost. Remainder ties go to the lower uid, so the split is deterministic.
 */
export function splitCost(cost: number, platformCutBps: number, experts: readonly ShareInput[]): CostSplit {
  if (!Number.isSafeInteger(cost) || cost < 0) throw new RangeError("cost must be a non-negative safe integer");
  const bps = BigInt(Math.min(10_000, Math.max(0, Math.floor(Number.isFinite(platformCutBps) ? platformCutBps : 0))));
  if (experts.length === 0) return { platform: cost, experts: [] };
  const pool = (BigInt(cost) * (10_000n - bps)) / 10_000n;
  const scaled = experts.map((e) =>
    Number.isFinite(e.weight) && e.weight > 0 ? BigInt(Math.round(Math.min(e.weight, 1e6) * WEIGHT_SCALE)) : 0n,
  );
  const anyWeight = scaled.some((w) => w > 0n);
  const units = anyWeight ? scaled : experts.map(() => 1n);
  const total = units.reduce((s, w) => s + w, 0n);
  const floors = units.map((w) => (pool * w) / total);
  let left = pool - floors.reduce((s, a) => s + a, 0n);
  // Largest remainder first; the remainders are exact (pool * w mod total), so the order is too.
  const order = units
    .map((w, i) => ({ i, rem: (pool * w) % total, uid: experts[i]?.uid ?? 0 }))
    .sort((a, b) => (a.rem === b.rem ? a.uid - b.uid : a.rem > b.rem ? -1 : 1));
  const amounts = [...floors];
  for (const o of order) {
    if (left === 0n) break;
    amounts[o.i] = (amounts[o.i] ?? 0n) + 1n;
    left -= 1n;
  }
  const shares = experts.map((e, i) => ({ uid: e.uid, amount: Number(amounts[i] ?? 0n) }));
  return { platform: cost - Number(pool), experts: shares };
}

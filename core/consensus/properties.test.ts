import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runEpoch } from "./epoch.ts";
import type { EpochInput, SparseRow } from "./types.ts";

const E = 1_000_000_000n;

function baseInput(n: number, v: number, stake: bigint[], weights: SparseRow[], variant: Variant): EpochInput {
  return {
    n,
    currentBlock: 1000,
    tempo: 360,
    activityCutoffFactorMilli: 13889,
    lastUpdate: Array.from({ length: n }, (_, i) => (i < v ? 999 : 0)),
    blockAtRegistration: Array.from({ length: n }, () => 10),
    stake,
    validatorPermits: Array.from({ length: n }, (_, i) => i < v),
    maxAllowedValidators: 64,
    ownerUid: null,
    weights,
    bonds: variant.bonds ? weights : Array.from({ length: n }, () => []),
    kappa: 32767,
    bondsPenalty: variant.bondsPenalty,
    bondsMovingAverage: 900_000,
    yuma3: variant.yuma3,
    liquidAlpha: variant.liquid,
    alphaLow: 45875,
    alphaHigh: 58982,
    alphaSigmoidSteepness: 1000,
    raoEmission: E,
  };
}

interface Variant {
  yuma3: boolean;
  liquid: boolean;
  bonds: boolean;
  bondsPenalty: number;
}

const variant = fc.record({
  yuma3: fc.boolean(),
  liquid: fc.boolean(),
  bonds: fc.boolean(),
  bondsPenalty: fc.constantFrom(0, 32767, 65535),
});

/** A small network: v validators (uids 0..v-1) weighting random subsets of the miners. */
const network = fc
  .record({ v: fc.integer({ min: 1, max: 5 }), miners: fc.integer({ min: 1, max: 8 }) })
  .chain(({ v, miners }) => {
    const n = v + miners;
    return fc.record({
      n: fc.constant(n),
      v: fc.constant(v),
      stake: fc.array(fc.bigInt({ min: 1n, max: 10n ** 15n }), { minLength: v, maxLength: v }),
      weights: fc.array(fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: miners, maxLength: miners }), {
        minLength: v,
        maxLength: v,
      }),
      variant,
    });
  })
  .map(({ n, v, stake, weights, variant }) => {
    const rows: SparseRow[] = Array.from({ length: n }, (_, i) =>
      i < v ? (weights[i] ?? []).flatMap((w, m) => (w > 0 ? [[v + m, w] as const] : [])) : [],
    );
    const stakes = Array.from({ length: n }, (_, i) => (i < v ? (stake[i] ?? 0n) : 0n));
    return baseInput(n, v, stakes, rows, variant);
  });

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe("epoch properties", () => {
  it("emission sums to the emitted amount within n rao, for every split", () => {
    fc.assert(
      fc.property(network, (input) => {
        const out = runEpoch(input);
        const total = out.emission.reduce((a, b) => a + b, 0n);
        expect(total).toBeLessThanOrEqual(E);
        expect(total).toBeGreaterThanOrEqual(E - BigInt(2 * input.n));
        const split = [...out.serverEmission, ...out.validatorEmission].reduce((a, b) => a + b, 0n);
        expect(split).toBeLessThanOrEqual(E);
        expect(split).toBeGreaterThanOrEqual(E - BigInt(2 * input.n));
      }),
      { numRuns: 100 },
    );
  });

  it("incentive and dividends each sum to ~1 once any weight survives", () => {
    fc.assert(
      fc.property(network, (input) => {
        const out = runEpoch(input);
        const inc = sum(out.incentiveU16);
        if (inc === 0) return; // every weight clipped away: the stake fallback, covered above
        expect(inc).toBeLessThanOrEqual(65535);
        expect(inc).toBeGreaterThanOrEqual(65535 - input.n - 1);
        const div = sum(out.dividendsU16);
        expect(div).toBeLessThanOrEqual(65535);
        expect(div).toBeGreaterThanOrEqual(65535 - input.n - 1);
      }),
      { numRuns: 100 },
    );
  });

  it("a cabal with less than kappa of the stake cannot lift its own miners above consensus", () => {
    const cabalNet = fc
      .record({
        honest: fc.integer({ min: 1, max: 4 }),
        cabal: fc.integer({ min: 1, max: 3 }),
        honestMiners: fc.integer({ min: 1, max: 4 }),
        cabalMiners: fc.integer({ min: 1, max: 3 }),
        cabalShare: fc.double({ min: 0.01, max: 0.45, noNaN: true }),
        seed: fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 64, maxLength: 64 }),
        variant,
      })
      .map(({ honest, cabal, honestMiners, cabalMiners, cabalShare, seed, variant }) => {
        const v = honest + cabal;
        const n = v + honestMiners + cabalMiners;
        const pick = (k: number) => seed[k % seed.length] ?? 1;
        const honestStake = 10n ** 12n;
        const cabalTotal = BigInt(Math.floor((Number(honestStake) * honest * cabalShare) / (1 - cabalShare)));
        const stake = Array.from({ length: n }, (_, i) =>
          i < honest ? honestStake : i < v ? cabalTotal / BigInt(cabal) + 1n : 0n,
        );
        const honestCols = Array.from({ length: honestMiners }, (_, m) => v + m);
        const cabalCols = Array.from({ length: cabalMiners }, (_, m) => v + honestMiners + m);
        const weights: SparseRow[] = Array.from({ length: n }, (_, i) => {
          if (i < honest) return honestCols.map((j, m) => [j, pick(i * 8 + m)] as const);
          // the cabal votes for its own miners at full weight and for some honest miners too
          if (i < v)
            return [...honestCols.map((j) => [j, pick(j)] as const), ...cabalCols.map((j) => [j, 65535] as const)];
          return [];
        });
        return { input: baseInput(n, v, stake, weights, variant), cabalCols };
      });
    fc.assert(
      fc.property(cabalNet, ({ input, cabalCols }) => {
        const out = runEpoch(input);
        for (const j of cabalCols) {
          expect(out.consensusU16[j]).toBe(0);
          expect(out.incentiveU16[j]).toBe(0);
          expect(out.serverEmission[j]).toBe(0n);
        }
      }),
      { numRuns: 100 },
    );
  });
});

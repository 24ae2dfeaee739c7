import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bondsCsrToRows, buildFrame, type EpochOutputCsr, runEpoch, runEpochCsr } from "./epoch.ts";
import type { EpochInput, EpochOutput, SparseRow } from "./types.ts";

/**
 * runEpochCsr is a second output path over the same computation, and the computation reuses scratch buffers between
 * epochs: these tests hold the two outputs equal on random, messy networks (unsorted rows, uids >= n, commit-reveal,
 * owner, thresholds, Yuma 2 and 3, liquid alpha), check that no output is a view into reused memory, and hold the
 * masked sparse inputs equal to a straightforward filter of the stored rows.
 */

const row = (n: number) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: n + 1 }), fc.constantFrom(0, 1, 7, 300, 32768, 65535)), {
    maxLength: n + 2,
  });

/** Rows as the chain stores them (sorted, unique uids) or, half the time, as a careless caller might pass them. */
const rows = (n: number) =>
  fc.tuple(fc.array(row(n), { minLength: n, maxLength: n }), fc.boolean()).map(([rs, tidy]) =>
    tidy
      ? rs.map((r) => {
          const seen = new Set<number>();
          return r.filter(([j]) => !seen.has(j) && seen.add(j)).sort((a, b) => a[0] - b[0]);
        })
      : rs,
  );

const scenario: fc.Arbitrary<EpochInput> = fc.integer({ min: 0, max: 24 }).chain((n) => {
  const block = 5000;
  const uid = fc.integer({ min: 0, max: Math.max(0, n - 1) });
  const blockNo = fc.integer({ min: 0, max: block });
  return fc.record({
    n: fc.constant(n),
    currentBlock: fc.constant(block),
    tempo: fc.integer({ min: 1, max: 400 }),
    activityCutoffFactorMilli: fc.integer({ min: 0, max: 20_000 }),
    lastUpdate: fc.array(blockNo, { minLength: n, maxLength: n }),
    blockAtRegistration: fc.array(blockNo, { minLength: n, maxLength: n }),
    stake: fc.array(fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n ** 16n })), { minLength: n, maxLength: n }),
    validatorPermits: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    maxAllowedValidators: fc.integer({ min: 0, max: n + 2 }),
    ownerUid: fc.option(uid, { nil: null }),
    weights: rows(n),
    bonds: rows(n),
    kappa: fc.constantFrom(0, 1, 32767, 65535),
    bondsPenalty: fc.constantFrom(0, 30000, 65535),
    bondsMovingAverage: fc.constantFrom(0, 900_000, 975_000, 1_000_000),
    yuma3: fc.boolean(),
    liquidAlpha: fc.boolean(),
    alphaLow: fc.integer({ min: 0, max: 40_000 }),
    alphaHigh: fc.integer({ min: 40_000, max: 65535 }),
    alphaSigmoidSteepness: fc.integer({ min: -2000, max: 2000 }),
    raoEmission: fc.bigInt({ min: 0n, max: 10n ** 18n }),
    stakeThreshold: fc.option(fc.bigInt({ min: 0n, max: 10n ** 12n }), { nil: undefined }),
    lastMechanismStepBlock: fc.option(blockNo, { nil: undefined }),
    earliestCommitBlock: fc.option(fc.array(fc.option(blockNo, { nil: null }), { minLength: n, maxLength: n }), {
      nil: undefined,
    }),
  });
});

function asNested(out: EpochOutputCsr): EpochOutput {
  const { bonds, ...rest } = out;
  return { ...rest, bondsU16: bondsCsrToRows(bonds) };
}

describe("runEpochCsr", () => {
  it("gives runEpoch's outputs, bonds included", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        expect(asNested(runEpochCsr(input))).toEqual(runEpoch(input));
      }),
      { numRuns: 300 },
    );
  });

  it("returns outputs that later epochs (which reuse the scratch buffers) leave untouched", () => {
    fc.assert(
      fc.property(scenario, scenario, (a, b) => {
        const first = runEpochCsr(a);
        const firstNested = runEpoch(a);
        const snapshot = structuredClone({ csr: first, nested: firstNested });
        runEpoch(b);
        runEpochCsr(b);
        expect({ csr: first, nested: firstNested }).toEqual(snapshot);
        expect(runEpoch(a)).toEqual(firstNested); // and a rerun after b is not disturbed by b's leftovers
      }),
      { numRuns: 100 },
    );
  });
});

/** The masks of run_epoch.rs written as plainly as possible, on the stored rows. */
function maskedRows(input: EpochInput, kind: "weights" | "bonds"): [number, number][][] {
  const n = input.n;
  const lms = input.lastMechanismStepBlock ?? 0;
  const lastTempo = lms === 0 ? Math.max(0, input.currentBlock - input.tempo) : lms + 1;
  return Array.from({ length: n }, (_, i) => {
    const stored: SparseRow = (kind === "weights" ? input.weights : input.bonds)[i] ?? [];
    const sorted = [...stored].sort((x, y) => x[0] - y[0]);
    if (kind === "bonds") return sorted.filter(([j]) => j < n && !(lastTempo <= (input.blockAtRegistration[j] ?? 0)));
    const permitted = (input.validatorPermits[i] ?? false) || i === input.ownerUid;
    if (!permitted) return [];
    return sorted.filter(([j]) => {
      if (j >= n || (i === j && i !== input.ownerUid)) return false;
      const registered = input.blockAtRegistration[j] ?? 0;
      if ((input.lastUpdate[i] ?? 0) <= registered) return false;
      const commit = input.earliestCommitBlock?.[i];
      return commit === undefined || commit === null || commit >= registered;
    });
  }).map((r) => r.map(([j, v]) => [j, v] as [number, number]));
}

describe("buildFrame", () => {
  it("keeps exactly the stored entries that the chain's masks keep, sorted by uid", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const frame = buildFrame(input);
        const asRows = (ptr: Int32Array, col: Int32Array, u16: Uint16Array) =>
          Array.from({ length: input.n }, (_, i) =>
            Array.from(col.subarray(ptr[i], ptr[i + 1]), (j, k) => [j, u16[(ptr[i] ?? 0) + k]]),
          );
        expect(asRows(frame.weights.ptr, frame.weights.col, frame.weightsU16)).toEqual(maskedRows(input, "weights"));
        expect(asRows(frame.bonds.ptr, frame.bonds.col, frame.bondsU16)).toEqual(maskedRows(input, "bonds"));
      }),
      { numRuns: 300 },
    );
  });
});

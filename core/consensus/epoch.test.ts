import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runEpochFloat } from "./epoch-float.ts";
import { type EpochOutputJson, runScenario, runScenarioText, scenarioSchema, toEpochInput } from "./scenario.ts";

const vectorText = readFileSync(new URL("../../test/vectors/yuma-s1.json", import.meta.url), "utf8");

function run(scenario: unknown): EpochOutputJson[] {
  const r = runScenario(scenario);
  if (!r.ok) throw new Error(r.error);
  return r.outputs;
}

describe("shared/vectors/yuma-s1.json", () => {
  it("is reproduced exactly through the CLI's code path", () => {
    const r = runScenarioText(vectorText);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(JSON.parse(r.stdout)).toEqual({ outputs_per_epoch: JSON.parse(vectorText).outputs_per_epoch });
  });

  it("the float baseline lands within a few u16 units of the exact epoch", () => {
    const parsed = scenarioSchema.parse(JSON.parse(vectorText));
    const f = runEpochFloat(toEpochInput(parsed.params));
    const want = JSON.parse(vectorText).outputs_per_epoch[0];
    for (const [i, x] of f.incentiveU16.entries()) expect(Math.abs(x - want.incentive_u16[i])).toBeLessThanOrEqual(2);
    for (const [i, x] of f.dividendsU16.entries()) expect(Math.abs(x - want.dividends_u16[i])).toBeLessThanOrEqual(2);
  });
});

describe("scenario errors name the field", () => {
  it("reports the zod path of a malformed field", () => {
    const bad = JSON.parse(vectorText);
    bad.params.weights[1][0] = [4, 70000];
    const r = runScenarioText(JSON.stringify(bad));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("params.weights.1.0.1");
  });

  it("reports per-uid vectors of the wrong length and bad JSON", () => {
    const bad = JSON.parse(vectorText);
    bad.params.stake.pop();
    const r = runScenarioText(JSON.stringify(bad));
    expect(r.ok ? "" : r.error).toContain("params.stake");
    const j = runScenarioText("{not json");
    expect(j.ok ? "" : j.error).toContain("invalid JSON");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// subtensor pallets/subtensor/src/tests/epoch.rs (main @14bc6f9f), rebuilt as scenarios. The mock registers every
// neuron at block 1 (new_test_ext(1)), tempo 1, so the activity cutoff is 13 blocks and last_tempo = block - 1.
// ---------------------------------------------------------------------------------------------------------------

const empty = (n: number) => Array.from({ length: n }, () => [] as [number, number][]);

describe("subtensor test_bonds (Yuma 2, exact asserts)", () => {
  const W: [number, number][] = [
    [4, 16383],
    [5, 32767],
    [6, 49149],
    [7, 65535],
  ];
  const params = {
    n: 8,
    current_block: 1,
    tempo: 1,
    activity_cutoff_factor_milli: 13889,
    last_update: [0, 0, 0, 0, 0, 0, 0, 0],
    block_at_registration: [1, 1, 1, 1, 1, 1, 1, 1],
    stake: [1, 2, 3, 4, 0, 0, 0, 0],
    validator_permits: Array(8).fill(false),
    max_allowed_validators: 8,
    weights: empty(8),
    bonds: empty(8),
    kappa: 32767,
    bonds_penalty: 65535,
    bonds_moving_average: 900000,
    rao_emission: 1000000000,
  };
  const self = (i: number): [number, number][] => [[i, 65535]];
  const steps = [
    {},
    { current_block: 2, last_update: [2, 2, 2, 2, 0, 0, 0, 0], weights: [W, W, W, W, [], [], [], []] },
    { current_block: 3, weights: [self(0), W, W, W, [], [], [], []] },
    { current_block: 4, last_update: [2, 3, 2, 2, 0, 0, 0, 0], weights: [self(0), self(1), W, W, [], [], [], []] },
    {
      current_block: 5,
      last_update: [2, 3, 4, 2, 0, 0, 0, 0],
      weights: [self(0), self(1), self(2), W, [], [], [], []],
    },
    {
      current_block: 6,
      last_update: [2, 3, 5, 2, 0, 0, 0, 0],
      weights: [self(0), self(1), [[7, 65535]], W, [], [], [], []],
    },
    { current_block: 7 },
    { current_block: 8 },
    { current_block: 9 },
  ];
  const out = run({ params, steps });
  const bond = (epoch: number, i: number, j: number) => out[epoch]?.bonds_u16[i]?.find(([c]) => c === j)?.[1];

  it("matches the asserted bond values", () => {
    const asserted: [number, number, number[]][] = [
      [1, 4, [16383, 32767, 49151, 65535]],
      [2, 4, [14582, 32767, 49151, 65535]],
      [3, 4, [12603, 28321, 49151, 65535]],
      [4, 7, [12602, 28320, 49150, 65535]],
      [5, 7, [10951, 24609, 49150, 65535]],
      [6, 7, [9559, 21482, 49150, 65535]],
      [7, 7, [8376, 18824, 49150, 65535]],
    ];
    for (const [epoch, j, values] of asserted) {
      expect(values.map((_, i) => bond(epoch, i, j))).toEqual(values);
    }
  });

  it("matches the emissions of the logged traces", () => {
    const traced: [number, number[]][] = [
      [1, [49999998, 99999999, 150000000, 200000001, 49998779, 100000610, 149996337, 200004272]],
      [2, [44998351, 101110561, 151667215, 202223870, 49998779, 100000610, 149996337, 200004272]],
      [3, [40496805, 90999783, 157929636, 210573773, 49998779, 100000610, 149996337, 200004272]],
      [4, [99999999, 199999999, 299999999, 399999999, 0, 0, 0, 0]],
      [5, [36443733, 81898628, 163565493, 218092144, 0, 0, 0, 500000000]],
      [6, [32799427, 73706612, 168638129, 224855830, 0, 0, 0, 500000000]],
      [7, [29518068, 66336137, 173203134, 230942659, 0, 0, 0, 500000000]],
      [8, [26565175, 59701871, 177311856, 236421095, 0, 0, 0, 500000000]],
    ];
    for (const [epoch, e] of traced) expect(out[epoch]?.emission.map(Number)).toEqual(e);
  });
});

/** setup_yuma_3_scenario: n = 5 (3 validators, 2 servers), bonds_penalty 0, BMA 975 000, liquid alpha (0.1, 0.3). */
function yuma3Case(stakes: number[], plan: (number[][] | null)[], liquid: boolean): EpochOutputJson[] {
  // set_alpha_values_32(0.1, 0.3): floor(from_num(x) * 65535)
  const alphaLow = Number((429496730n * 65535n) >> 32n);
  const alphaHigh = Number((1288490189n * 65535n) >> 32n);
  const params = {
    n: 5,
    current_block: 2,
    tempo: 1,
    activity_cutoff_factor_milli: 13889,
    last_update: [0, 0, 0, 0, 0],
    block_at_registration: [1, 1, 1, 1, 1],
    stake: stakes,
    validator_permits: Array(5).fill(false),
    max_allowed_validators: 3,
    weights: empty(5),
    bonds: empty(5),
    kappa: 32767,
    bonds_penalty: 0,
    bonds_moving_average: 975000,
    yuma3: true,
    liquid_alpha: liquid,
    alpha_low: alphaLow,
    alpha_high: alphaHigh,
    alpha_sigmoid_steepness: 1000,
    rao_emission: 1000000000,
  };
  const steps: object[] = [{}]; // the setup epoch that hands out validator permits
  plan.forEach((targets, k) => {
    const block = 3 + k;
    if (targets === null) {
      steps.push({ current_block: block });
      return;
    }
    // set_weights(uids [3, 4], values) for each validator, one block before the epoch
    const rows = targets.map((v) => [
      [3, v[0]],
      [4, v[1]],
    ]);
    steps.push({
      current_block: block,
      last_update: [block - 1, block - 1, block - 1, 0, 0],
      weights: [...rows, [], []],
    });
  });
  return run({ params, steps }).slice(1);
}

const S1 = [65535, 0];
const S2 = [0, 65535];

function expectDividends(out: EpochOutputJson[], targets: number[][]): void {
  for (const [epoch, t] of targets.entries()) {
    const d = out[epoch]?.dividends_u16 ?? [];
    for (const [i, x] of t.entries()) expect(Math.abs((d[i] ?? 0) / 65535 - x)).toBeLessThan(1e-3);
  }
}

/** The test file lists bonds too (not asserted there); ours match them at the same 1e-3. */
function expectBonds(out: EpochOutputJson[], targets: number[][][], columns: number[]): void {
  for (const [epoch, rows] of targets.entries()) {
    for (const [i, row] of rows.entries()) {
      for (const [c, x] of row.entries()) {
        const entry = out[epoch]?.bonds_u16[i]?.find(([j]) => j === columns[c]);
        expect(Math.abs((entry?.[1] ?? 0) / 65535 - x)).toBeLessThan(1e-3);
      }
    }
  }
}

describe("subtensor Yuma 3 tests (dividends at the tests' 1e-3)", () => {
  it("test_yuma_3_kappa_moves_first (liquid alpha)", () => {
    const out = yuma3Case([8, 1, 1, 0, 0], [[S1, S1, S1], [S2, S1, S1], [S2, S2, S1], [S2, S2, S2], null, null], true);
    expectDividends(out, [
      [0.8, 0.1, 0.1, 0, 0],
      [1, 0, 0, 0, 0],
      [0.9382, 0.0618, 0, 0, 0],
      [0.8819, 0.0773, 0.0407, 0, 0],
      [0.8564, 0.0844, 0.0592, 0, 0],
      [0.8418, 0.0884, 0.0697, 0, 0],
    ]);
    expectBonds(
      out,
      [
        [
          [0.1013, 0],
          [0.1013, 0],
          [0.1013, 0],
        ],
        [
          [0.0908, 0.1013],
          [0.3697, 0],
          [0.3697, 0],
        ],
        [
          [0.0815, 0.1924],
          [0.317, 0.1013],
          [0.558, 0],
        ],
        [
          [0.0731, 0.2742],
          [0.2765, 0.1924],
          [0.4306, 0.1013],
        ],
      ],
      [3, 4],
    );
  });

  it("test_yuma_3_kappa_moves_second (liquid alpha)", () => {
    const out = yuma3Case([8, 1, 1, 0, 0], [[S1, S1, S1], [S1, S2, S1], [S2, S2, S1], [S2, S2, S2], null, null], true);
    expectDividends(out, [
      [0.8, 0.1, 0.1, 0, 0],
      [0.8446, 0.0498, 0.1056, 0, 0],
      [0.6868, 0.3132, 0, 0, 0],
      [0.7421, 0.209, 0.0489, 0, 0],
      [0.7625, 0.1706, 0.0669, 0, 0],
      [0.773, 0.1508, 0.0762, 0, 0],
    ]);
  });

  it("test_yuma_3_kappa_moves_last (liquid alpha)", () => {
    const out = yuma3Case([8, 1, 1, 0, 0], [[S1, S1, S1], [S1, S2, S1], [S1, S2, S2], [S2, S2, S2], null, null], true);
    expectDividends(out, [
      [0.8, 0.1, 0.1, 0, 0],
      [0.8446, 0.0498, 0.1056, 0, 0],
      [0.8966, 0.0333, 0.0701, 0, 0],
      [0.4663, 0.321, 0.2127, 0, 0],
      [0.5976, 0.234, 0.1683, 0, 0],
      [0.6592, 0.1932, 0.1475, 0, 0],
    ]);
  });

  it("test_yuma_3_one_epoch_switch (liquid alpha)", () => {
    const all1 = [S1, S1, S1];
    const out = yuma3Case([33, 33, 34, 0, 0], [all1, all1, [S1, S1, S2], all1, all1, all1], true);
    expectDividends(out, [
      [0.33, 0.33, 0.34, 0, 0],
      [0.33, 0.33, 0.34, 0, 0],
      [0.3782, 0.3782, 0.2436, 0, 0],
      [0.3628, 0.3628, 0.2745, 0, 0],
      [0.3541, 0.3541, 0.2917, 0, 0],
      [0.3487, 0.3487, 0.3026, 0, 0],
    ]);
    expectBonds(
      out,
      [
        [
          [0.1013, 0],
          [0.1013, 0],
          [0.1013, 0],
        ],
        [
          [0.1924, 0],
          [0.1924, 0],
          [0.1924, 0],
        ],
        [
          [0.2742, 0],
          [0.2742, 0],
          [0.1715, 0.2987],
        ],
        [
          [0.3478, 0],
          [0.3478, 0],
          [0.2554, 0.2618],
        ],
      ],
      [3, 4],
    );
  });

  it("test_yuma_3_liquid_alpha_disabled", () => {
    const all1 = [S1, S1, S1];
    const out = yuma3Case([33, 33, 34, 0, 0], [all1, all1, [S1, S1, S2], all1, all1, all1], false);
    expectDividends(out, [
      [0.33, 0.33, 0.34, 0, 0],
      [0.33, 0.33, 0.34, 0, 0],
      [0.3734, 0.3734, 0.2532, 0, 0],
      [0.3611, 0.3611, 0.2779, 0, 0],
      [0.3541, 0.3541, 0.2919, 0, 0],
      [0.3495, 0.3495, 0.3009, 0, 0],
    ]);
    expectBonds(
      out,
      [
        [
          [0, 0.025, 0],
          [0, 0.025, 0],
          [0, 0.025, 0],
        ],
        [
          [0, 0.0494, 0],
          [0, 0.0494, 0],
          [0, 0.0494, 0],
        ],
        [
          [0, 0.0731, 0],
          [0, 0.0731, 0],
          [0, 0.0481, 0.025],
        ],
      ],
      [2, 3, 4],
    );
  });
});

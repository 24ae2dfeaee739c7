import { describe, expect, it } from "vitest";
import { groupDuplicates } from "./duplicates.ts";
import { cleanOutputs } from "./expert-outputs.ts";
import { syntheticDigits } from "./testing/synthetic-digits.ts";

const registrations = (count: number) =>
  Array.from({ length: count }, (_, e) => ({ uid: e, registrationBlock: 1000 - e }));

describe("groupDuplicates", () => {
  const { outputs } = syntheticDigits(["spec04", "spec59", "copy:0", "noise", "copy:2"], 200, 1);
  const clean = cleanOutputs(outputs);

  it("collapses exact copies transitively and pays the earliest registration", () => {
    const groups = groupDuplicates(clean, registrations(5));
    const copies = groups.find((g) => g.members.length > 1);
    // Experts 0, 2 and 4 answer identically; expert 4 registered first (block 996).
    expect(copies?.members).toEqual([4, 2, 0]);
    expect(copies?.representative).toBe(4);
    expect(groups).toHaveLength(3);
  });

  it("breaks a registration-block tie by the lower uid", () => {
    const same = [0, 1, 2, 3, 4].map((e) => ({ uid: 10 - e, registrationBlock: 7 }));
    const copies = groupDuplicates(clean, same).find((g) => g.members.length > 1);
    expect(copies?.representative).toBe(4);
  });

  it("groups near-identical outputs (a perturbed copy) but not different models", () => {
    const probs = Float64Array.from(clean.probs);
    const width = 200 * 10;
    for (let k = 0; k < width; k++) probs[2 * width + k] = (probs[k] ?? 0) * (1 + 1e-4 * Math.sin(k));
    probs.copyWithin(4 * width, 3 * width, 4 * width); // expert 4 now copies the noise expert
    const perturbed = cleanOutputs({ ...outputs, probs });
    const groups = groupDuplicates(perturbed, registrations(5));
    const sets = groups.map((g) => [...g.members].sort((a, b) => a - b)).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    expect(sets).toEqual([[0, 2], [1], [3, 4]]);
  });

  it("groups equal model hashes even when outputs differ", () => {
    const regs = registrations(5).map((r, e) => ({ ...r, modelHash: e === 1 || e === 3 ? "abc" : `h${e}` }));
    const groups = groupDuplicates(clean, regs, { minCorrelation: 2 });
    expect(groups.find((g) => g.members.includes(1))?.members).toEqual([3, 1]);
  });

  it("does not compare experts that answered too few items in common", () => {
    const answered = new Uint8Array(5 * 200).fill(1);
    answered.fill(0, 2 * 200, 2 * 200 + 150); // the copy answered only 50 of 200 items
    const sparse = cleanOutputs({ ...outputs, answered });
    const groups = groupDuplicates(sparse, registrations(5));
    expect(groups.find((g) => g.members.includes(2))?.members).toEqual([2]);
  });
});

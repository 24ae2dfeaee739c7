import { describe, expect, it } from "vitest";
import { EmaRecord, reconcileHotkeys, updateEma } from "./ema.ts";

describe("updateEma", () => {
  const previous: EmaRecord[] = [
    { task: "digits", uid: 1, hotkey: "a", ema: 0.5, epochs: 3 },
    { task: "digits", uid: 2, hotkey: "b", ema: 0.2, epochs: 1 },
    { task: "speech", uid: 1, hotkey: "a", ema: -0.4, epochs: 2 },
  ];

  it("folds the epoch in with weight alpha", () => {
    const out = updateEma({ previous, current: [{ task: "digits", uid: 1, hotkey: "a", value: 1 }], alpha: 0.1 });
    expect(out.find((r) => r.task === "digits" && r.uid === 1)).toEqual({
      task: "digits",
      uid: 1,
      hotkey: "a",
      ema: 0.1 * 1 + 0.9 * 0.5,
      epochs: 4,
    });
  });

  it("restarts from zero when the uid's hotkey changed", () => {
    const out = updateEma({ previous, current: [{ task: "digits", uid: 2, hotkey: "new", value: 0.3 }], alpha: 0.25 });
    const row = out.find((r) => r.task === "digits" && r.uid === 2);
    expect(row?.ema).toBeCloseTo(0.075, 15);
    expect(row?.epochs).toBe(1);
    expect(row?.hotkey).toBe("new");
  });

  it("decays or keeps uids the epoch did not score, per task", () => {
    const current = [{ task: "digits", uid: 1, hotkey: "a", value: 0 }];
    const decayed = updateEma({ previous, current, alpha: 0.5 });
    expect(decayed.find((r) => r.task === "speech")?.ema).toBeCloseTo(-0.2, 15);
    const kept = updateEma({ previous, current, alpha: 0.5, missing: "keep" });
    expect(kept.find((r) => r.task === "speech")?.ema).toBe(-0.4);
    expect(kept.map((r) => `${r.task}/${r.uid}`)).toEqual(["digits/1", "digits/2", "speech/1"]);
  });

  it("treats a non-finite value as 0 and rejects a bad alpha", () => {
    const out = updateEma({ previous: [], current: [{ task: "t", uid: 0, hotkey: "x", value: Number.NaN }], alpha: 1 });
    expect(out[0]?.ema).toBe(0);
    expect(() => updateEma({ previous, current: [], alpha: 0 })).toThrow(RangeError);
  });

  it("parses stored records and refuses malformed ones", () => {
    expect(EmaRecord.safeParse({ task: "t", uid: 1, hotkey: "h", ema: 0.1, epochs: 2 }).success).toBe(true);
    expect(EmaRecord.safeParse({ task: "t", uid: -1, hotkey: "h", ema: 0.1, epochs: 2 }).success).toBe(false);
  });
});

describe("reconcileHotkeys", () => {
  it("zeroes recycled uids and drops uids that left the metagraph", () => {
    const records: EmaRecord[] = [
      { task: "t", uid: 0, hotkey: "a", ema: 1, epochs: 5 },
      { task: "t", uid: 1, hotkey: "b", ema: 1, epochs: 5 },
      { task: "t", uid: 2, hotkey: "c", ema: 1, epochs: 5 },
    ];
    const out = reconcileHotkeys(
      records,
      new Map([
        [0, "a"],
        [1, "z"],
      ]),
    );
    expect(out).toEqual([
      { task: "t", uid: 0, hotkey: "a", ema: 1, epochs: 5 },
      { task: "t", uid: 1, hotkey: "z", ema: 0, epochs: 0 },
    ]);
  });
});

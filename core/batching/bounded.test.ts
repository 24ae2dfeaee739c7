import { describe, expect, it } from "vitest";
import { eachBounded } from "./bounded.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("eachBounded", () => {
  it("runs every item once, never more than `limit` at a time", async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await eachBounded([...Array(23).keys()], 4, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      seen.push(n);
      inFlight--;
    });
    expect(most).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(23).keys()]);
  });

  it("starts nothing more once `stop` says so, and rejects with a call's error", async () => {
    const started: number[] = [];
    await eachBounded(
      [1, 2, 3, 4, 5],
      2,
      async (n) => void started.push(n),
      () => started.length >= 3,
    );
    expect(started).toEqual([1, 2, 3]);
    await expect(
      eachBounded([1, 2], 1, async (n) => {
        if (n === 2) throw new Error("second");
      }),
    ).rejects.toThrow("second");
  });

  it("runs nothing on no items", async () => {
    let calls = 0;
    await eachBounded([], 4, async () => void calls++);
    expect(calls).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { dailyEarnings } from "./earnings.ts";

const entry = (at: number, amount: number, requestId = `req-${at}`) => ({
  entryId: `share:${requestId}:hk`,
  payee: "hk",
  requestId,
  amount,
  at,
});

describe("dailyEarnings", () => {
  it("sums amounts and counts answers per UTC day, newest first, keeping nothing per request", () => {
    const day = Date.UTC(2026, 11, 5);
    const out = dailyEarnings([entry(day + 1, 10), entry(day + 86_399_999, 5), entry(day + 86_400_000, 7)]);
    expect(out).toEqual([
      { day: "2026-12-06", amount: 7, answers: 1 },
      { day: "2026-12-05", amount: 15, answers: 2 },
    ]);
    expect(JSON.stringify(out)).not.toContain("req-");
    expect(dailyEarnings([])).toEqual([]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validSplit } from "../../core/billing/shares.ts";
import { packSettlement, readSettlement, type Settlement } from "./ledger-settlement.ts";

const hotkeyA = "5DchEJ5UE86uuKXRttYJWuxjMeFgUXeeq8qHLQ8oDHmMdvaK";
const hotkeyB = "5DCjMYztUN1k3b1znpiaJRcP9toMsiQvF6rTUiNQ296QiWyo";
const captured: Settlement = {
  status: "captured",
  captureAmount: 2000,
  settledAt: 1_796_604_019_344,
  task: "digits",
  shares: [
    { payee: hotkeyA, amount: 900, uid: 1 },
    { payee: hotkeyB, amount: 900, uid: 7 },
    { payee: "platform", amount: 200 },
  ],
};

describe("a settlement packed for the account item", () => {
  it("reads back as it was, with or without its optional parts", () => {
    const released: Settlement = { status: "released", settledAt: 5 };
    const noTask: Settlement = {
      status: "captured",
      captureAmount: 0,
      settledAt: 6,
      shares: [{ payee: "p", amount: 0 }],
    };
    for (const s of [captured, released, noTask]) expect(readSettlement(packSettlement(s))).toEqual(s);
  });

  it("reads back every settlement a settle can store (any split validSplit admits: uid 0, amounts 0, no task)", () => {
    const share = fc.record(
      {
        payee: fc.string({ minLength: 1, maxLength: 64 }),
        amount: fc.nat({ max: 1_000_000 }),
        uid: fc.integer({ min: 0, max: 65_535 }),
      },
      { requiredKeys: ["payee", "amount"] },
    );
    const settlement = fc.record(
      {
        status: fc.constantFrom("captured" as const, "released" as const),
        captureAmount: fc.nat(),
        settledAt: fc.integer({ min: 0, max: 2 ** 45 }),
        task: fc.string({ maxLength: 64 }),
        shares: fc.uniqueArray(share, { minLength: 1, maxLength: 8, selector: (s) => s.payee }),
      },
      { requiredKeys: ["status", "settledAt"] },
    );
    fc.assert(
      fc.property(settlement, (s) => {
        fc.pre(validSplit({ ...(s.task !== undefined ? { task: s.task } : {}), shares: s.shares ?? [] }, 2 ** 40));
        expect(readSettlement(packSettlement(s))).toEqual(s);
      }),
    );
  });

  it("is smaller than the map it replaces (DynamoDB bills the account's writes by size)", () => {
    const packed = packSettlement(captured);
    // A map's size as DynamoDB counts it: every attribute name again, in every share.
    const mapBytes = (value: unknown): number =>
      typeof value === "string"
        ? Buffer.byteLength(value)
        : typeof value === "number"
          ? Math.ceil(String(value).length / 2) + 1
          : Array.isArray(value)
            ? 3 + value.reduce<number>((n, v) => n + 1 + mapBytes(v), 0)
            : 3 + Object.entries(value as object).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + mapBytes(v), 0);
    expect(Buffer.byteLength(packed)).toBeLessThan(180);
    expect(Buffer.byteLength(packed) / mapBytes(captured)).toBeLessThan(0.75);
  });

  it("still reads the map form that items written before packing carry", () => {
    expect(readSettlement({ ...captured })).toEqual(captured);
    expect(readSettlement({ status: "released", settledAt: 9 })).toEqual({ status: "released", settledAt: 9 });
  });

  it("refuses what is not a settlement, without throwing", () => {
    const hostile = [
      undefined,
      null,
      42,
      "",
      "not json",
      "{}",
      '["captured"]',
      '["refunded",1,2,null,[]]',
      '["captured",-1,2,null,[]]',
      '["captured",1,2.5,null,[]]',
      '["captured",1,2,null,[["p",1,2,3]]]',
      `["captured",1,2,null,[["${"x".repeat(65)}",1]]]`,
      `"${"a".repeat(70_000)}"`,
      { status: "captured" },
    ];
    for (const value of hostile) expect(readSettlement(value)).toBeNull();
  });
});

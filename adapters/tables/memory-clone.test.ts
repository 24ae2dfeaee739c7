import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { copyRecord } from "./memory-clone.ts";

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("copyRecord", () => {
  it("gives the value of a JSON round trip", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(copyRecord(value)).toStrictEqual(roundTrip(value));
      }),
    );
    const odd = {
      a: [1, undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, -0],
      b: undefined,
      c: new Date(0),
      d: { toJSON: () => "custom" },
      e: { nested: [{ x: 1, y: undefined }] },
    };
    expect(copyRecord(odd)).toStrictEqual(roundTrip(odd));
    expect(copyRecord(undefined)).toBeUndefined();
  });

  it("shares no object with the original", () => {
    const original = { list: [{ n: 1 }], inner: { deep: { v: "x" } } };
    const copy = copyRecord(original);
    copy.list[0] = { n: 2 };
    copy.inner.deep.v = "y";
    expect(original).toStrictEqual({ list: [{ n: 1 }], inner: { deep: { v: "x" } } });
  });
  it("keeps an own __proto__ key as data, as JSON.parse does, instead of setting the copy's prototype", () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = copyRecord(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, "__proto__")).toBe(true);
    expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

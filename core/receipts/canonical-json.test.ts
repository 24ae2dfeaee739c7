import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalJsonParts } from "./canonical-json.ts";

const sha256Hex = (parts: readonly string[]) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part, "utf8");
  return hash.digest("hex");
};

describe("canonicalJsonParts", () => {
  it("is canonicalJson in pieces: the same text, and the same bytes hashed piece by piece", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        text,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(text, tie("node"), { maxKeys: 4 }),
        fc.array(fc.integer(), { maxLength: 8 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const parts = canonicalJsonParts(v);
        const whole = canonicalJson(v);
        expect(parts.join("")).toBe(whole);
        expect(sha256Hex(parts)).toBe(sha256Hex([whole]));
      }),
      { numRuns: 500 },
    );
  });

  it("passes a long string with nothing to escape through whole, and escapes the others as JSON.stringify does", () => {
    const pcm16 = "A".repeat(100_000);
    const parts = canonicalJsonParts({ pcm16 });
    expect(parts).toContain(pcm16);
    for (const s of ['a"b', "a\\b", "a\nb", "\u0000", "\ud800", "\udc00x", "😀", "\u2028"]) {
      expect(canonicalJsonParts({ s }).join("")).toBe(`{"s":${JSON.stringify(s)}}`);
    }
    expect(() => canonicalJsonParts({ x: Number.NaN })).toThrow(/non-finite/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJsonParts(cyclic)).toThrow(/cycle/);
    expect(canonicalJsonParts({ b: undefined, a: [1, "x"] }).join("")).toBe('{"a":[1,"x"]}');
    // A sparse array has no JSON text: both refuse it (canonicalJson used to write "[1,,3]").
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const sparse = [1, , "x"];
    expect(() => canonicalJsonParts(sparse)).toThrow(/hole/);
    expect(() => canonicalJson(sparse)).toThrow(/hole/);
  });
});

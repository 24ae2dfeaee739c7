import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "../../../core/keys/api-key.ts";
import { canonicalJson } from "../../../core/receipts/canonical-json.ts";
import { hashKeyNative } from "../auth.ts";
import { fastCanonicalJson, fastJson, randomId } from "./ids.ts";

describe("hot-path helpers", () => {
  it("fastCanonicalJson writes exactly what canonicalJson writes for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(fastCanonicalJson(value)).toBe(canonicalJson(value));
      }),
    );
    const tensor = { b: Array.from({ length: 784 }, (_, i) => i / 255), a: [1, -0, 1e-7, 2.5e21] };
    expect(fastCanonicalJson(tensor)).toBe(canonicalJson(tensor));
  });

  it("fastJson writes exactly what JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(fastJson(value)).toBe(JSON.stringify(value));
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.double()), (numbers) => {
        expect(fastJson(numbers)).toBe(JSON.stringify(numbers));
        expect(fastJson({ x: numbers })).toBe(JSON.stringify({ x: numbers }));
      }),
    );
    const odd = {
      a: [1, undefined, () => 1, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 5e-324],
      b: undefined,
      c: new Date(0),
      d: new Float32Array([0.5, 0.25]),
      e: { toJSON: () => "custom" },
      'k"ey': "v\n",
    };
    expect(fastJson(odd)).toBe(JSON.stringify(odd));
    expect(fastJson(undefined)).toBe(JSON.stringify(undefined));
  });

  it("fastJson reuses the text the fingerprint wrote for a tensor", () => {
    const pixels = Array.from({ length: 784 }, (_, i) => i / 783);
    const tensors = new WeakMap<object, string>();
    const canonical = fastCanonicalJson({ input: { pixels } }, tensors);
    expect(tensors.get(pixels)).toBe(JSON.stringify(pixels));
    expect(canonical).toBe(canonicalJson({ input: { pixels } }));
    expect(fastJson(pixels, tensors)).toBe(JSON.stringify(pixels));
  });

  it("hashes keys as core's hashApiKey does", () => {
    for (let i = 0; i < 20; i++) {
      const { secret, hash } = generateApiKey("test");
      expect(hashKeyNative(secret)).toBe(hash);
    }
    expect(hashKeyNative("é ✓")).toBe(hashApiKey("é ✓"));
  });

  it("random ids have 96 bits of hex and do not repeat across pool refills", () => {
    const ids = Array.from({ length: 2000 }, () => randomId("hr"));
    for (const id of ids) expect(id).toMatch(/^hr_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

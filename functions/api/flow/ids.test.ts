import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "../../../core/keys/api-key.ts";
import { canonicalJson } from "../../../core/receipts/canonical-json.ts";
import { hashKeyNative } from "../auth.ts";
import { fastCanonicalJson, randomId } from "./ids.ts";

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

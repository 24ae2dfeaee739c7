import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pureBytes } from "../../../core/jobs/job-input.ts";
import { generateApiKey, hashApiKey } from "../../../core/keys/api-key.ts";
import { canonicalJson } from "../../../core/receipts/canonical-json.ts";
import { hashKeyNative } from "../auth.ts";
import { fingerprint, randomId } from "./ids.ts";

describe("hot-path helpers", () => {
  it("fingerprint is SHA-256 of canonical JSON, whatever the key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(fingerprint(value)).toBe(pureBytes.sha256Hex([canonicalJson(value)]));
      }),
    );
    expect(fingerprint({ a: 1, b: [0.5] })).toBe(fingerprint({ b: [0.5], a: 1 }));
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

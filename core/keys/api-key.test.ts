import { describe, expect, it } from "vitest";
import { constantTimeEqual, generateApiKey, hashApiKey, looksLikeApiKey } from "./api-key.ts";
import { type ApiKeyRecord, keyState } from "./schema.ts";

describe("api keys", () => {
  it("generates a 256-bit key with the env prefix whose stored form is only hash and start", () => {
    const key = generateApiKey("live");
    expect(looksLikeApiKey(key.secret)).toBe(true);
    expect(key.secret.startsWith("mk_live_")).toBe(true);
    expect(key.hash).toBe(hashApiKey(key.secret));
    expect(key.secret.includes(key.hash)).toBe(false);
    expect(key.start.length).toBeLessThan(key.secret.length / 3);
    expect(generateApiKey("test").secret.startsWith("mk_test_")).toBe(true);
  });

  it("never generates the same key twice", () => {
    const seen = new Set(Array.from({ length: 200 }, () => generateApiKey("live").secret));
    expect(seen.size).toBe(200);
  });

  it("rejects texts that are not keys", () => {
    for (const bad of [
      "",
      "mk_live_",
      `mk_prod_${"a".repeat(64)}`,
      `mk_live_${"A".repeat(64)}`,
      `Bearer mk_live_${"a".repeat(64)}`,
    ]) {
      expect(looksLikeApiKey(bad)).toBe(false);
    }
  });

  it("compares tokens by content whatever their lengths", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
  });

  it("says revoked and expired keys are not valid from that instant on", () => {
    const key: ApiKeyRecord = {
      keyId: "k",
      accountId: "a",
      name: "n",
      hash: "0".repeat(64),
      start: "mk_live_000000",
      env: "live",
      scopes: ["infer"],
      rateLimit: { perMinute: 60, burst: 1 },
      createdAt: 0,
    };
    expect(keyState(key, 10)).toBe("valid");
    expect(keyState({ ...key, expiresAt: 10 }, 9)).toBe("valid");
    expect(keyState({ ...key, expiresAt: 10 }, 10)).toBe("expired");
    expect(keyState({ ...key, revokedAt: 5 }, 5)).toBe("revoked");
  });
});

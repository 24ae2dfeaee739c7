import { describe, expect, it } from "vitest";
import { type Bucket, takeToken } from "./rate-limit.ts";

describe("token bucket", () => {
  const limit = { perMinute: 60, burst: 3 };

  it("lets a burst through then refuses with the time until the next token", () => {
    let bucket: Bucket | undefined;
    for (let i = 0; i < 3; i++) {
      const r = takeToken(bucket, limit, 1000);
      expect(r.ok).toBe(true);
      bucket = r.bucket;
    }
    const refused = takeToken(bucket, limit, 1000);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterMs).toBe(1000);
  });

  it("refills at the sustained rate and never above the burst", () => {
    let bucket = takeToken(undefined, limit, 0).bucket;
    bucket = takeToken(bucket, limit, 0).bucket;
    bucket = takeToken(bucket, limit, 0).bucket;
    expect(takeToken(bucket, limit, 999).ok).toBe(false);
    expect(takeToken(bucket, limit, 1000).ok).toBe(true);
    const full = takeToken(bucket, limit, 10_000_000);
    expect(full.ok && full.remaining).toBe(2);
  });
});

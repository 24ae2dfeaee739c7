import { describe, expect, it } from "vitest";
import { type Bucket, fixedWindow, takeToken, windowStatus } from "./rate-limit.ts";

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

describe("fixed window of a token-bucket limit", () => {
  it("lasts as long as the burst takes to refill and admits the burst, so the sustained rate is perMinute", () => {
    expect(fixedWindow({ perMinute: 600, burst: 60 }, 12_345)).toEqual({ start: 12_000, lengthMs: 6000, capacity: 60 });
    expect(fixedWindow({ perMinute: 60, burst: 3 }, 7000)).toEqual({ start: 6000, lengthMs: 3000, capacity: 3 });
  });

  it("clamps windows to [1 s, 1 h], keeping the rate", () => {
    expect(fixedWindow({ perMinute: 1_000_000, burst: 1 }, 0)).toMatchObject({ lengthMs: 1000, capacity: 16_667 });
    expect(fixedWindow({ perMinute: 1, burst: 100_000 }, 0)).toMatchObject({ lengthMs: 3_600_000, capacity: 60 });
  });

  it("says what is left and when the window resets", () => {
    const w = fixedWindow({ perMinute: 60, burst: 3 }, 6000);
    expect(windowStatus(w, { allowed: true, count: 1 }, 6500)).toEqual({
      ok: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 3,
      windowSeconds: 3,
    });
    expect(windowStatus(w, { allowed: false, count: 3 }, 8999)).toMatchObject({
      ok: false,
      remaining: 0,
      resetSeconds: 1,
    });
  });
});

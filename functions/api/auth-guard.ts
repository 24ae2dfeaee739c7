import type { Context } from "hono";
import { type Bucket, takeToken } from "../../core/keys/rate-limit.ts";
import type { RateLimit } from "../../core/keys/schema.ts";

/**
 * The negative path of authentication, kept in this process on purpose (cheap, no table write for garbage):
 * - failed attempts per client address, as a token bucket: once an address has spent its burst of failures it is
 *   answered 429 before its key is even hashed, so guessing keys costs the attacker time, not us table reads;
 * - a short negative cache of key hashes known to be bad (unknown, revoked, expired), so a bad key repeated does
 *   not cost a table read each time.
 * Per instance on Lambda, which only makes it more lenient, never wrong: valid keys are never cached here.
 */
export class AuthGuard {
  private readonly failures = new Map<string, Bucket>();
  private readonly badHashes = new Map<string, { firstMiss: number; until: number; confirmed: boolean }>();

  constructor(
    private readonly options: {
      readonly failureLimit: RateLimit;
      /** How long a bad hash is remembered, ms. */
      readonly negativeTtlMs: number;
      /**
       * An unknown hash is trusted as unknown only when it was still missing this long after its first miss: a key
       * created a moment ago may not be visible yet to an eventually consistent read, and must not be cached out.
       */
      readonly unknownConfirmMs: number;
      readonly maxEntries: number;
    },
  ) {}

  /** Ms the address must wait before its next attempt (0: it may try). Takes nothing. */
  blockedFor(address: string, now: number): number {
    const bucket = this.failures.get(address);
    if (!bucket) return 0;
    const peek = takeToken(bucket, this.options.failureLimit, now);
    return peek.ok ? 0 : peek.retryAfterMs;
  }

  recordFailure(address: string, now: number): void {
    const taken = takeToken(this.failures.get(address), this.options.failureLimit, now);
    bounded(this.failures, address, taken.bucket, this.options.maxEntries);
  }

  isKnownBad(hash: string, now: number): boolean {
    const entry = this.badHashes.get(hash);
    if (!entry) return false;
    if (entry.until <= now) {
      this.badHashes.delete(hash);
      return false;
    }
    return entry.confirmed;
  }

  /** `permanent`: revoked or expired (cannot become valid again); otherwise an unknown hash. */
  rememberBad(hash: string, now: number, permanent: boolean): void {
    const prior = this.badHashes.get(hash);
    const firstMiss = prior && prior.until > now ? prior.firstMiss : now;
    const confirmed = permanent || now - firstMiss >= this.options.unknownConfirmMs;
    bounded(
      this.badHashes,
      hash,
      {
        firstMiss,
        until: confirmed ? now + this.options.negativeTtlMs : firstMiss + this.options.negativeTtlMs,
        confirmed,
      },
      this.options.maxEntries,
    );
  }

  forget(hash: string): void {
    this.badHashes.delete(hash);
  }
}

function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/**
 * The client's address as the platform saw it: the socket's peer on @hono/node-server, the source IP of the
 * Lambda event (hono/aws-lambda puts the event in `c.env`). Never X-Forwarded-For, which the client writes itself.
 */
export function clientAddress(c: Context): string {
  const env = c.env as
    | {
        incoming?: { socket?: { remoteAddress?: string } };
        event?: { requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } };
      }
    | undefined;
  return (
    env?.incoming?.socket?.remoteAddress ??
    env?.event?.requestContext?.http?.sourceIp ??
    env?.event?.requestContext?.identity?.sourceIp ??
    "unknown"
  );
}

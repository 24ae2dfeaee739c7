import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isThrottling, isTransient } from "./transient.ts";

const named = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...extra });

describe("isTransient", () => {
  it("takes the SDK's timeouts, throttles and 5xx, a batch entry's service code, and a socket error under a cause", () => {
    for (const error of [
      named("TimeoutError"),
      named("RequestThrottled", { $metadata: { httpStatusCode: 400 } }),
      named("ProvisionedThroughputExceededException", { $metadata: { httpStatusCode: 400 } }),
      named("InternalFailure", { $metadata: { httpStatusCode: 500 } }),
      named("SendBatchError", { code: "ServiceUnavailable" }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
      new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) }),
    ]) {
      expect(isTransient(error), `${error.name} ${error.message}`).toBe(true);
    }
  });

  it("leaves a refused condition, a client error, bad input, our own errors and non-errors alone", () => {
    for (const error of [
      named("ConditionalCheckFailedException", { $metadata: { httpStatusCode: 400 } }),
      named("ValidationException", { $metadata: { httpStatusCode: 400 } }),
      z.object({ a: z.string() }).safeParse({}).error,
      named("ApiError", { code: "conflict" }),
      new TypeError("x is not a function"),
      new Error("boom", { cause: new Error("deeper") }),
      "TimeoutError",
      null,
      undefined,
    ]) {
      expect(isTransient(error), String(error)).toBe(false);
    }
  });

  it("calls only a refusal for load a throttle (a timeout is transient, not a throttle)", () => {
    expect(isThrottling(named("ProvisionedThroughputExceededException"))).toBe(true);
    expect(isThrottling(named("RequestThrottled"))).toBe(true);
    expect(isThrottling(named("TimeoutError"))).toBe(false);
    expect(isThrottling({ name: "ThrottlingException" })).toBe(false);
  });
});

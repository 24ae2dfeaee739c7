import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./schema.ts";

describe("parseConfig", () => {
  it("gives defaults that run the local market", () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(8787);
    expect(config.MARKET_WORKERS).toBe(2);
    expect(config.MARKET_DATA_DIR).toBe(".data");
    expect(config.MARKET_CHAIN_URL).toBeUndefined();
  });

  it("coerces numbers and booleans from strings", () => {
    const config = parseConfig({ PORT: "9000", MARKET_VALIDATOR_ENABLED: "off", MARKET_WORKERS: "0" });
    expect(config.PORT).toBe(9000);
    expect(config.MARKET_VALIDATOR_ENABLED).toBe(false);
    expect(config.MARKET_WORKERS).toBe(0);
  });

  it("names the bad variable and its value", () => {
    expect(() => parseConfig({ PORT: "eighty" })).toThrow(/PORT="eighty"/);
    expect(() => parseConfig({ MARKET_CHAIN_URL: "http://node" })).toThrow(/MARKET_CHAIN_URL/);
  });

  it("never prints a secret's value", () => {
    try {
      parseConfig({ MARKET_ADMIN_TOKEN: "short-secret" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toContain("MARKET_ADMIN_TOKEN=(secret)");
      expect(String(error)).not.toContain("short-secret");
    }
  });

  it("treats empty strings as unset", () => {
    expect(parseConfig({ AWS_ENDPOINT_URL_SQS: "" }).AWS_ENDPOINT_URL_SQS).toBeUndefined();
  });
});

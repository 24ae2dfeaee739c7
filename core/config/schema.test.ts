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

  it("runs three validators by default; adversaries take validator slots and leave the primary honest", () => {
    expect(parseConfig({}).MARKET_VALIDATORS).toBe(3);
    expect(parseConfig({}).MARKET_ADVERSARIES).toEqual([]);
    const config = parseConfig({ MARKET_VALIDATORS: "4", MARKET_ADVERSARIES: "copier, cabal:7,lazy" });
    expect(config.MARKET_ADVERSARIES).toEqual(["copier", "cabal:7", "lazy"]);
    expect(() => parseConfig({ MARKET_ADVERSARIES: "copier,cabal:7,lazy" })).toThrow(/at least 4/);
    expect(() => parseConfig({ MARKET_ADVERSARIES: "briber" })).toThrow(/MARKET_ADVERSARIES/);
    expect(() => parseConfig({ MARKET_VALIDATORS: "0" })).toThrow(/MARKET_VALIDATORS/);
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

describe("demo keys against a real chain (issue 13 item 6)", () => {
  const chain = { MARKET_CHAIN_URL: "wss://entrypoint-finney.opentensor.ai:443" };
  const real = "legal winner thank year wave sausage worth useful legal winner thank yellow";

  it("refuses a development or demo key URI at boot when MARKET_CHAIN_URL is set, naming the variable", () => {
    const demo = [
      "//Alice",
      "//market-demo//gateway",
      "/soft",
      "bottom drive obey lake curtain smoke basket hold race lonely fit walk",
      "bottom drive obey lake curtain smoke basket hold race lonely fit walk//gateway",
    ];
    for (const uri of demo) {
      let problem = "";
      try {
        parseConfig({ ...chain, MARKET_GATEWAY_MNEMONIC: uri, MARKET_VALIDATOR_MNEMONIC: real });
      } catch (error) {
        problem = error instanceof ConfigError ? error.message : String(error);
      }
      expect(problem).toMatch(/MARKET_GATEWAY_MNEMONIC=\(secret\): a development\/demo key/);
      expect(problem).not.toContain(uri);
    }
    expect(() => parseConfig({ ...chain, MARKET_GATEWAY_MNEMONIC: real, MARKET_VALIDATOR_MNEMONIC: "//Bob" })).toThrow(
      /MARKET_VALIDATOR_MNEMONIC/,
    );
  });

  it("accepts the demo keys on the embedded devnet and real keys on a real chain", () => {
    expect(parseConfig({ MARKET_GATEWAY_MNEMONIC: "//Alice" }).MARKET_GATEWAY_MNEMONIC).toBe("//Alice");
    const config = parseConfig({ ...chain, MARKET_GATEWAY_MNEMONIC: real, MARKET_VALIDATOR_MNEMONIC: real });
    expect(config.MARKET_CHAIN_URL).toBe(chain.MARKET_CHAIN_URL);
  });
});

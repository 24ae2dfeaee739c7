import type { GetParametersCommand } from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { ssmParameterReader, withSecretParameters } from "./secret-parameters.ts";

const mapping = JSON.stringify({
  MARKET_ADMIN_TOKEN: "/app/prod/MarketAdminToken",
  MARKET_GATEWAY_MNEMONIC: "/app/prod/MarketGatewayMnemonic",
});

describe("withSecretParameters", () => {
  it("leaves an environment without MARKET_SECRET_PARAMETERS as it is, reading nothing", async () => {
    const env = { MARKET_ADMIN_TOKEN: "local-token-0123456789" };
    const read = async () => {
      throw new Error("must not read");
    };
    expect(await withSecretParameters(env, read)).toEqual(env);
  });

  it("sets each named setting from its parameter", async () => {
    const asked: string[][] = [];
    const env = await withSecretParameters(
      { MARKET_SECRET_PARAMETERS: mapping, MARKET_NETUID: "42" },
      async (names) => {
        asked.push([...names]);
        return { "/app/prod/MarketAdminToken": "token-from-ssm", "/app/prod/MarketGatewayMnemonic": "gateway words" };
      },
    );
    expect(asked).toEqual([["/app/prod/MarketAdminToken", "/app/prod/MarketGatewayMnemonic"]]);
    expect(env).toMatchObject({
      MARKET_ADMIN_TOKEN: "token-from-ssm",
      MARKET_GATEWAY_MNEMONIC: "gateway words",
      MARKET_NETUID: "42",
    });
  });

  it("refuses a malformed mapping", async () => {
    const read = async () => ({});
    await expect(withSecretParameters({ MARKET_SECRET_PARAMETERS: "{" }, read)).rejects.toThrow(/not JSON/);
    await expect(withSecretParameters({ MARKET_SECRET_PARAMETERS: "[]" }, read)).rejects.toThrow(/JSON object/);
    await expect(
      withSecretParameters({ MARKET_SECRET_PARAMETERS: '{"MARKET_ADMIN_TOKEN":"plain-value"}' }, read),
    ).rejects.toThrow(/starting with \//);
  });
});

describe("ssmParameterReader", () => {
  it("asks SSM with decryption, 10 names per call, and names what it could not read (never a value)", async () => {
    const calls: { Names?: string[]; WithDecryption?: boolean }[] = [];
    const names = Array.from({ length: 12 }, (_, i) => `/p/${i}`);
    const client = {
      send: async (command: GetParametersCommand) => {
        calls.push(command.input);
        const batch = command.input.Names ?? [];
        return {
          Parameters: batch.filter((n) => n !== "/p/11").map((Name) => ({ Name, Value: `value-of-${Name}` })),
          InvalidParameters: batch.includes("/p/11") ? ["/p/11"] : [],
        };
      },
    };
    const read = ssmParameterReader(client as never);
    await expect(read(names)).rejects.toThrow("SSM parameters not readable: /p/11");
    expect(calls.map((c) => [c.Names?.length, c.WithDecryption])).toEqual([
      [10, true],
      [2, true],
    ]);
    expect(await read(names.slice(0, 3))).toEqual({
      "/p/0": "value-of-/p/0",
      "/p/1": "value-of-/p/1",
      "/p/2": "value-of-/p/2",
    });
  });
});

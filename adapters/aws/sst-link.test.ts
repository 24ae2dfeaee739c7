import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readSstLinks, withLinkedSecrets } from "./sst-link.ts";

function encrypt(links: unknown, key: Buffer): Uint8Array {
  const cipher = createCipheriv("aes-256-gcm", key, Buffer.alloc(12, 0));
  return Buffer.concat([cipher.update(JSON.stringify(links), "utf8"), cipher.final(), cipher.getAuthTag()]);
}

describe("SST-linked secrets", () => {
  const key = randomBytes(32);
  const file = encrypt(
    { MarketAdminToken: { type: "sst.sst.Secret", value: "tok" }, MarketChainUrl: { value: "wss://x" } },
    key,
  );
  const env = { SST_KEY: key.toString("base64"), SST_KEY_FILE: "/task/resource.enc" };

  it("decrypts resource.enc and fills the settings the environment leaves unset", () => {
    const read = (path: string) => {
      expect(path).toBe("/task/resource.enc");
      return file;
    };
    const out = withLinkedSecrets({ ...env, MARKET_CHAIN_URL: "ws://explicit" }, read);
    expect(out.MARKET_ADMIN_TOKEN).toBe("tok");
    expect(out.MARKET_CHAIN_URL).toBe("ws://explicit");
    expect(out.MARKET_GATEWAY_MNEMONIC).toBeUndefined();
  });

  it("refuses a file encrypted with another key (GCM tag), and reads nothing without SST_KEY", () => {
    expect(() => readSstLinks({ ...env, SST_KEY: randomBytes(32).toString("base64") }, () => file)).toThrow();
    expect(readSstLinks({}, () => file)).toEqual({});
  });
});

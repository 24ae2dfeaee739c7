import { describe, expect, it } from "vitest";
import { marketUrl } from "./miner.ts";

describe("the miner commands' market URL", () => {
  it("defaults to npm start's API, as the client commands do", () => {
    expect(marketUrl({ env: {} })).toBe("http://127.0.0.1:8787");
  });

  it("takes MARKET_API_URL before MARKET_URL, without a trailing slash", () => {
    expect(marketUrl({ env: { MARKET_API_URL: "https://a.example/", MARKET_URL: "https://b.example" } })).toBe(
      "https://a.example",
    );
    expect(marketUrl({ env: { MARKET_URL: " https://b.example " } })).toBe("https://b.example");
  });

  it("refuses what is not an http(s) URL", () => {
    expect(() => marketUrl({ env: { MARKET_URL: "ftp://x" } })).toThrow(/http\(s\) URL/);
  });
});

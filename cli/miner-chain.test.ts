import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Chain } from "../core/ports/chain.ts";
import { type MinerIo, run } from "./miner.ts";
import { createWallet } from "./wallets.ts";

// A deployed API's /health: no chain component, so it names neither an RPC URL nor a subnet.
let server: Server;
let url = "";
let walletDir = "";
/** What the market was asked, in order. */
const asked: string[] = [];
beforeAll(async () => {
  walletDir = await mkdtemp(join(tmpdir(), "miner-chain-"));
  await createWallet(walletDir, "me");
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "ok", components: { api: { state: "ok" } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(walletDir, { recursive: true, force: true });
});

/** A miner's io whose chain records the subnet each commitment names. */
function io(env: Record<string, string>) {
  const said: string[] = [];
  const committedOn: number[] = [];
  const connected: string[] = [];
  const chain = {
    setCommitment: async (_hotkey: unknown, netuid: number) => {
      committedOn.push(netuid);
      return { ok: true, block: 7 };
    },
    close: async () => {},
  } as unknown as Chain;
  const minerIo: MinerIo = {
    env: { MARKET_URL: url, MARKET_WALLET_DIR: walletDir, MARKET_CHAIN_URL: "ws://node.example:9944", ...env },
    out: (t) => said.push(t),
    err: (t) => said.push(t),
    stdin: async () => "",
    connect: async (u) => {
      connected.push(u);
      return chain;
    },
  };
  return { minerIo, said, committedOn, connected };
}

describe("the miner commands' subnet", () => {
  it("is never guessed: with a market whose /health names none and no MARKET_NETUID, nothing reaches the chain", async () => {
    // The miner names the node (as the README's cloud command does) but not the subnet.
    const t = io({});
    expect(await run(["retire", "--wallet", "me"], t.minerIo)).toBe(1);
    expect(t.said.join("")).toContain("set MARKET_NETUID");
    expect(t.connected).toEqual([]);
    // Nothing named: the deployed API's /health names no chain either.
    const none = io({ MARKET_CHAIN_URL: "" });
    expect(await run(["retire", "--wallet", "me"], none.minerIo)).toBe(1);
    expect(none.said.join("")).toContain("set MARKET_CHAIN_URL and MARKET_NETUID");
    expect(t.connected).toEqual([]);
  });

  it("takes chain and subnet together: both from npm start's /health, never its subnet for another chain", async () => {
    // npm start's /health names its devnet and that devnet's netuid.
    const local = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ status: "ok", components: { chain: { state: "ok", netuid: 3, rpcUrl: "ws://devnet" } } }),
      );
    });
    await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
    try {
      const market = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
      const both = io({ MARKET_URL: market, MARKET_CHAIN_URL: "" });
      expect(await run(["retire", "--wallet", "me"], both.minerIo)).toBe(0);
      expect([both.connected, both.committedOn]).toEqual([["ws://devnet"], [3]]);
      // With MARKET_CHAIN_URL pointing elsewhere, the devnet's netuid would be a guess.
      const elsewhere = io({ MARKET_URL: market });
      expect(await run(["retire", "--wallet", "me"], elsewhere.minerIo)).toBe(1);
      expect(elsewhere.said.join("")).toContain("set MARKET_NETUID too");
      expect(elsewhere.connected).toEqual([]);
    } finally {
      await new Promise((resolve) => local.close(resolve));
    }
  });

  it("a commit that cannot name its subnet uploads nothing", async () => {
    const model = join(walletDir, "model.onnx");
    await writeFile(model, new Uint8Array(64));
    asked.length = 0;
    const t = io({});
    expect(await run(["commit", "--wallet", "me", "--task", "digits", "--model", model], t.minerIo)).toBe(1);
    expect(t.said.join("")).toContain("set MARKET_NETUID");
    expect(asked.filter((a) => a.includes("/v1/models"))).toEqual([]);
    expect(t.connected).toEqual([]);
  });

  it("refuses a MARKET_NETUID that is no subnet id", async () => {
    for (const bad of ["abc", "0", "70000", "1.5", "0x2a", "1e1"]) {
      const t = io({ MARKET_NETUID: bad });
      expect(await run(["retire", "--wallet", "me"], t.minerIo)).toBe(1);
      expect(t.said.join("")).toContain(`MARKET_NETUID must be a subnet id from 1 to 65535, got "${bad}"`);
      expect(t.connected).toEqual([]);
    }
  });

  it("acts on the subnet MARKET_NETUID names", async () => {
    const t = io({ MARKET_NETUID: "42" });
    expect(await run(["retire", "--wallet", "me"], t.minerIo)).toBe(0);
    expect(t.connected).toEqual(["ws://node.example:9944"]);
    expect(t.committedOn).toEqual([42]);
  });
});

/** The devnet RPC server survives what a hostile local client sends: oversized frames, bad storage keys. */
import { xxhashAsHex } from "@polkadot/util-crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { testSubnet } from "../testing.ts";
import { type DevnetRpc, startDevnetRpc } from "./index.ts";
import { MAX_SUBSCRIPTIONS } from "./methods.ts";
import { MAX_EXTRINSIC_BYTES } from "./pool.ts";

let rpc: DevnetRpc;
beforeAll(async () => {
  const t = await testSubnet();
  rpc = await startDevnetRpc({ devnet: t.devnet });
});
afterAll(async () => rpc?.close());

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(rpc.url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function call(ws: WebSocket, id: number, method: string, params: unknown[] = []): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (raw: Buffer) => {
      const body = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (body.id !== id) return;
      ws.off("message", onMessage);
      resolve(body);
    };
    ws.on("message", onMessage);
    ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  });
}

const uncaught: unknown[] = [];
const record = (e: unknown) => void uncaught.push(e);

describe("devnet rpc bounds", () => {
  it("closes a connection that sends a frame over the payload limit, and keeps serving", async () => {
    process.on("uncaughtException", record);
    try {
      const ws = await open();
      ws.on("error", () => undefined);
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
      ws.send("x".repeat(4 * MAX_EXTRINSIC_BYTES + 1024));
      expect(await closed).toBe(1009);
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
      const again = await open();
      expect((await call(again, 1, "system_chain")).result).toBe("Bittensor devnet");
      again.close();
    } finally {
      process.off("uncaughtException", record);
    }
  });

  it("a storage subscription on a key that does not decode neither crashes the server nor kills the block loop", async () => {
    process.on("uncaughtException", record);
    try {
      const ws = await open();
      // SubtensorModule.Uids (netuid u16 Identity, AccountId32 Blake2_128Concat) with a truncated account id.
      const prefix = xxhashAsHex("SubtensorModule", 128) + xxhashAsHex("Uids", 128).slice(2);
      const key = `${prefix}0100${"00".repeat(16)}${"ab".repeat(4)}`;
      const direct = await call(ws, 1, "state_getStorage", [key]);
      const sub = await call(ws, 2, "state_subscribeStorage", [[key]]);
      expect(typeof sub.result).toBe("string");
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
      expect(direct.error ?? null).toBeNull();
      expect((await call(ws, 3, "system_chain")).result).toBe("Bittensor devnet");
      ws.close();
    } finally {
      process.off("uncaughtException", record);
    }
  });

  it("bounds the subscriptions one connection may hold, and frees them on unsubscribe", async () => {
    const ws = await open();
    const ids: string[] = [];
    for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) {
      const r = await call(ws, 100 + i, "chain_subscribeNewHeads");
      ids.push(String(r.result));
    }
    const refused = await call(ws, 1, "chain_subscribeNewHeads");
    expect((refused.error as { code: number } | undefined)?.code).toBe(-32000);
    expect((await call(ws, 2, "chain_unsubscribeNewHeads", [ids[0]])).result).toBe(true);
    expect(typeof (await call(ws, 3, "chain_subscribeNewHeads")).result).toBe("string");
    ws.close();
  });
});

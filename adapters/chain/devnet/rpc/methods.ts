/** The JSON-RPC methods, each parsing its own params (zod) before touching devnet state. */
import { z } from "zod";
import type { BlockRecord } from "./blocks.ts";
import { headerJson } from "./blocks.ts";
import { PoolError } from "./pool.ts";
import { RuntimeApiMissing, runtimeVersionJson } from "./runtime-api.ts";
import type { DevnetRpcCore, Session } from "./server.ts";

export type Handler = (params: unknown[], session: Session) => unknown;

/** Open subscriptions one connection may hold: each costs a head listener (a storage one up to 1,000 reads a block). */
export const MAX_SUBSCRIPTIONS = 256;

function claimSubscription(session: Session): string {
  if (session.subscriptions.size >= MAX_SUBSCRIPTIONS)
    throw new PoolError(-32000, `Too many subscriptions on this connection (at most ${MAX_SUBSCRIPTIONS})`);
  return session.nextId();
}

const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/);
const storageKey = z.string().regex(/^0x([0-9a-fA-F]{2}){32,512}$/);
const blockNumber = z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]{1,8}$/)]);
const optionalHash = hash.nullish();
const address = z.string().min(1).max(128);

const TOKEN = { ss58Format: 42, tokenDecimals: 9, tokenSymbol: "TAO" };

function at(core: DevnetRpcCore, h: string | null | undefined): BlockRecord | undefined {
  return h === null || h === undefined ? core.blocks.head : core.blocks.find(h);
}

export function rpcHandlers(core: DevnetRpcCore): Record<string, Handler> {
  const subscribe =
    (notification: string, onEvent: (notify: (r: unknown) => void) => () => void, initial?: () => unknown) =>
    (_params: unknown[], session: Session) => {
      const id = claimSubscription(session);
      const notify = (result: unknown) => session.notify(notification, id, result);
      session.subscriptions.set(id, onEvent(notify));
      if (initial) queueMicrotask(() => notify(initial()));
      return id;
    };
  const unsubscribe = (params: unknown[], session: Session) => {
    const id = z.string().max(64).parse(params[0]);
    const stop = session.subscriptions.get(id);
    session.subscriptions.delete(id);
    stop?.();
    return stop !== undefined;
  };
  const heads = subscribe(
    "chain_newHead",
    (notify) => core.onHead((n) => notify(headerJsonAt(core, n))),
    () => headerJson(core.blocks.head),
  );
  const finalized = subscribe(
    "chain_finalizedHead",
    (notify) => core.onHead((n) => notify(headerJsonAt(core, n))),
    () => headerJson(core.blocks.head),
  );
  const allHeads = subscribe(
    "chain_allHead",
    (notify) => core.onHead((n) => notify(headerJsonAt(core, n))),
    () => headerJson(core.blocks.head),
  );
  const methods: Record<string, Handler> = {
    rpc_methods: () => ({ methods: Object.keys(methods).sort() }),
    system_chain: () => "Bittensor devnet",
    system_name: () => "intelligence-market devnet",
    system_version: () => "1.0.0",
    system_properties: () => TOKEN,
    system_chainType: () => "Development",
    system_health: () => ({ peers: 0, isSyncing: false, shouldHavePeers: false }),
    system_accountNextIndex: (p) => core.pool.nextIndex(address.parse(p[0])),
    chain_getBlockHash: (p) => {
      if (p[0] === undefined || p[0] === null) return core.blocks.head.hash;
      const n = blockNumber.parse(p[0]);
      return core.blocks.at(typeof n === "number" ? n : Number.parseInt(n, 16))?.hash ?? null;
    },
    chain_getHeader: (p) => {
      const record = at(core, optionalHash.parse(p[0]));
      return record ? headerJson(record) : null;
    },
    chain_getBlock: (p) => {
      const record = at(core, optionalHash.parse(p[0]));
      return record
        ? { block: { header: headerJson(record), extrinsics: record.extrinsics }, justifications: null }
        : null;
    },
    chain_getFinalizedHead: () => core.blocks.head.hash,
    chain_getFinalisedHead: () => core.blocks.head.hash,
    chain_subscribeNewHead: heads,
    chain_subscribeNewHeads: heads,
    chain_unsubscribeNewHead: unsubscribe,
    chain_unsubscribeNewHeads: unsubscribe,
    chain_subscribeFinalizedHeads: finalized,
    chain_subscribeFinalisedHeads: finalized,
    chain_unsubscribeFinalizedHeads: unsubscribe,
    chain_unsubscribeFinalisedHeads: unsubscribe,
    chain_subscribeAllHeads: allHeads,
    chain_unsubscribeAllHeads: unsubscribe,
    state_getMetadata: () => core.served.v14Hex,
    state_getRuntimeVersion: () => runtimeVersionJson(core.served),
    chain_getRuntimeVersion: () => runtimeVersionJson(core.served),
    state_subscribeRuntimeVersion: subscribe(
      "state_runtimeVersion",
      () => () => undefined,
      () => runtimeVersionJson(core.served),
    ),
    state_unsubscribeRuntimeVersion: unsubscribe,
    state_getStorage: (p) => core.storage.get(storageKey.parse(p[0]), optionalHash.parse(p[1]) ?? undefined),
    state_getStorageAt: (p) => core.storage.get(storageKey.parse(p[0]), optionalHash.parse(p[1]) ?? undefined),
    state_getKeysPaged: (p) => {
      const prefix = z.union([z.literal("0x"), storageKey]).parse(p[0] ?? "0x");
      const count = z.number().int().min(1).max(1000).parse(p[1]);
      // @polkadot/api sends "0x" for "from the start".
      const start = z
        .union([z.literal("0x"), storageKey])
        .nullish()
        .parse(p[2]);
      return core.storage.keysPaged(prefix, count, start === "0x" || start === null ? undefined : start);
    },
    state_queryStorageAt: (p) => {
      const keys = z.array(storageKey).max(1000).parse(p[0]);
      const record = at(core, optionalHash.parse(p[1]));
      return [
        { block: record?.hash ?? null, changes: keys.map((k) => [k, core.storage.get(k, record?.hash)] as const) },
      ];
    },
    state_subscribeStorage: (params, session) => {
      const keys = z
        .array(storageKey)
        .max(1000)
        .parse(params[0] ?? []);
      const id = claimSubscription(session);
      const last = new Map<string, string | null>();
      const push = (all: boolean) => {
        const changes: [string, string | null][] = [];
        for (const key of keys) {
          const value = core.storage.get(key);
          if (all || last.get(key) !== value) changes.push([key, value]);
          last.set(key, value);
        }
        if (all || changes.length > 0) session.notify("state_storage", id, { block: core.blocks.head.hash, changes });
      };
      session.subscriptions.set(
        id,
        core.onHead(() => push(false)),
      );
      queueMicrotask(() => push(true));
      return id;
    },
    state_unsubscribeStorage: unsubscribe,
    state_call: (p) => {
      const method = z.string().max(128).parse(p[0]);
      try {
        return core.runtime.call(method, hexData.max(2 + 2 * 65536).parse(p[1] ?? "0x"));
      } catch (error) {
        if (error instanceof RuntimeApiMissing) throw new PoolError(4003, `Client error: ${error.message}`);
        throw error;
      }
    },
    payment_queryInfo: () => ({ weight: { refTime: 0, proofSize: 0 }, class: "normal", partialFee: "0" }),
    author_submitExtrinsic: (p) => core.submit(hexData.parse(p[0])),
    author_pendingExtrinsics: () => core.pool.pending.map((t) => t.hex),
    author_submitAndWatchExtrinsic: (p, session) => {
      const id = claimSubscription(session);
      core.submit(hexData.parse(p[0]), (status) => {
        session.notify("author_extrinsicUpdate", id, status);
        // The watch ends with finality: it no longer counts against the connection's subscriptions.
        if (typeof status === "object" && status !== null && "finalized" in status) session.subscriptions.delete(id);
      });
      session.subscriptions.set(id, () => undefined);
      queueMicrotask(() => session.notify("author_extrinsicUpdate", id, "ready"));
      return id;
    },
    author_unwatchExtrinsic: unsubscribe,
  };
  return methods;
}

function headerJsonAt(core: DevnetRpcCore, n: number): Record<string, unknown> | null {
  const record = core.blocks.at(n);
  return record ? headerJson(record) : null;
}

/**
 * The devnet over Substrate JSON-RPC (WebSocket), serving what @polkadot/api uses, with mainnet's metadata.
 * Extrinsics wait in the pool and are applied in the next block: the devnet's own timer when it runs, else a block
 * is sealed as soon as a transaction arrives (instant seal, as a dev node), so tests need no wall-clock waits.
 */
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import type { Devnet } from "../devnet.ts";
import { BlockLog } from "./blocks.ts";
import { DISPATCH_INFO, EventCodec, type RawEvent } from "./events.ts";
import { servedMetadata } from "./metadata.ts";
import { type Handler, rpcHandlers } from "./methods.ts";
import { MAX_EXTRINSIC_BYTES, PoolError, type PooledTx, TxPool } from "./pool.ts";
import { RuntimeApi } from "./runtime-api.ts";
import { StorageView } from "./storage.ts";

export interface DevnetRpcOptions {
  readonly devnet: Devnet;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Serve the mainnet capture untouched (no dynamic-tempo items): to exercise an adapter's fallbacks. */
  readonly mainnetOnly?: boolean;
  /** Seal a block as soon as a transaction is pooled (default: when the devnet's own timer is not running). */
  readonly instantSeal?: boolean;
}

export interface DevnetRpc {
  readonly url: string;
  close(): Promise<void>;
}

const request = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.number(), z.string().max(64)]),
  method: z.string().max(128),
  params: z.array(z.unknown()).max(16).optional(),
});

const FINALITY_DELAY_MS = 100;

export type Notify = (method: string, subscription: string, result: unknown) => void;

/** What one connection's handlers share with the server. */
export interface Session {
  readonly subscriptions: Map<string, () => void>;
  readonly notify: Notify;
  nextId(): string;
}

export class DevnetRpcCore {
  readonly served;
  readonly blocks: BlockLog;
  readonly pool: TxPool;
  readonly storage: StorageView;
  readonly runtime: RuntimeApi;
  readonly codec: EventCodec;
  private readonly headListeners = new Set<(block: number) => void>();
  private readonly watchers = new Map<string, (status: unknown) => void>();
  private sealScheduled = false;
  private readonly detach: (() => void)[] = [];

  constructor(
    readonly devnet: Devnet,
    private readonly options: Omit<DevnetRpcOptions, "devnet">,
  ) {
    this.served = servedMetadata(options.mainnetOnly ?? false);
    const seed = `${devnet.state.genesisTimeMs}:${devnet.state.beacon.publicKeyHex}`;
    this.blocks = new BlockLog(this.served.registry, seed, devnet.block);
    this.pool = new TxPool(this.served, devnet, (n) => this.blocks.at(n)?.hash);
    this.codec = new EventCodec(this.served);
    this.storage = new StorageView(this.served, devnet, (at) =>
      at === undefined ? this.blocks.head : this.blocks.find(at),
    );
    this.runtime = new RuntimeApi(this.served, devnet, this.pool, options.mainnetOnly ?? false);
    this.detach.push(devnet.onBuild((block) => this.build(block)));
    this.detach.push(devnet.onBlock((block) => this.announce(block)));
  }

  /** Inside the devnet's new block: initialization events, then each pooled extrinsic applied in order. */
  private build(block: number): void {
    const records: RawEvent[] = [];
    const log = this.devnet.state.events;
    let first = log.length;
    while (first > 0 && log[first - 1]?.block === block) first--;
    for (const event of log.slice(first)) {
      const raw = this.codec.fromDevnet(event, "initialization");
      if (raw) records.push(raw);
    }
    const txs = this.pool.drain();
    for (const [index, tx] of txs.entries()) {
      const before = log.at(-1);
      const dispatch = this.apply(tx);
      const start = before === undefined ? 0 : log.lastIndexOf(before) + 1;
      const phase = { apply: index };
      for (const event of log.slice(start)) {
        const raw = this.codec.fromDevnet(event, phase);
        if (raw) records.push(raw);
      }
      records.push(
        dispatch.ok
          ? { phase, pallet: "System", name: "ExtrinsicSuccess", args: [DISPATCH_INFO] }
          : {
              phase,
              pallet: "System",
              name: "ExtrinsicFailed",
              args: [this.codec.dispatchError(dispatch.error), DISPATCH_INFO],
            },
      );
    }
    this.blocks.add(
      block,
      txs.map((t) => t.hex),
      this.codec.encode(records, (record, error) =>
        process.stderr.write(`devnet rpc: event ${record.pallet}.${record.name} not encoded: ${String(error)}\n`),
      ),
    );
    this.sealed = txs;
  }

  private sealed: PooledTx[] = [];

  private apply(tx: PooledTx) {
    // The nonce moves whether the call succeeds or fails, as CheckNonce's post-dispatch does.
    this.devnet.state.nonces[tx.signer] = tx.nonce + 1;
    try {
      return tx.apply();
    } catch (error) {
      return { ok: false as const, error: error instanceof Error ? error.message : "Other" };
    }
  }

  private announce(block: number): void {
    if (this.blocks.at(block) === undefined) this.blocks.add(block, [], "0x00");
    const hash = this.blocks.at(block)?.hash;
    for (const tx of this.sealed) {
      const watch = this.watchers.get(tx.hash);
      this.watchers.delete(tx.hash);
      watch?.({ inBlock: hash });
      // @polkadot/api reads a block's events per status and drops the first read when the next status arrives at
      // once: a node finalizes later than it includes, so the devnet does too (after a short pause).
      if (watch) setTimeout(() => watch({ finalized: hash }), FINALITY_DELAY_MS).unref?.();
    }
    this.sealed = [];
    for (const listener of this.headListeners) listener(block);
  }

  onHead(listener: (block: number) => void): () => void {
    this.headListeners.add(listener);
    return () => this.headListeners.delete(listener);
  }

  /** Pools an extrinsic (PoolError on refusal); `watch` gets ready / inBlock / finalized. */
  submit(extrinsicHex: string, watch?: (status: unknown) => void): string {
    const tx = this.pool.submit(extrinsicHex);
    if (watch) this.watchers.set(tx.hash, watch);
    const instant = this.options.instantSeal ?? !this.devnet.running;
    if (instant && !this.sealScheduled) {
      this.sealScheduled = true;
      // After the submit answer (and "ready") are on the wire.
      setTimeout(() => {
        this.sealScheduled = false;
        if (this.pool.pending.length > 0) this.devnet.produceBlock();
      }, 0);
    }
    return tx.hash;
  }

  close(): void {
    for (const d of this.detach) d();
  }
}

/**
 * Serves `devnet` on ws://host:port until `close()`. The devnet's beacon period must be whole seconds for clients to
 * read it from pallet_drand's BeaconConfig (a u32), as the subtensor adapter does to aim timelocked commits.
 */
export async function startDevnetRpc(options: DevnetRpcOptions): Promise<DevnetRpc> {
  const { devnet, ...rest } = options;
  const core = new DevnetRpcCore(devnet, rest);
  const handlers = rpcHandlers(core);
  const wss = new WebSocketServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    maxPayload: 4 * MAX_EXTRINSIC_BYTES,
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  wss.on("connection", (socket) => serveConnection(socket, handlers));
  const address = wss.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `ws://${host}:${address.port}`,
    close: async () => {
      core.close();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function serveConnection(socket: WebSocket, handlers: Record<string, Handler>): void {
  let counter = 0;
  const send = (body: unknown) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(body));
  };
  const session: Session = {
    subscriptions: new Map(),
    notify: (method, subscription, result) => send({ jsonrpc: "2.0", method, params: { subscription, result } }),
    nextId: () => {
      counter += 1;
      return `sub${counter.toString(16)}`;
    },
  };
  // ws emits 'error' for a frame over maxPayload or a protocol violation (and closes the socket itself): without a
  // listener that error is an uncaught exception, and any local client could stop the devnet's process.
  socket.on("error", () => undefined);
  socket.on("close", () => {
    for (const unsubscribe of session.subscriptions.values()) unsubscribe();
    session.subscriptions.clear();
  });
  socket.on("message", (raw) => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString());
    } catch {
      send({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      return;
    }
    const parsed = request.safeParse(json);
    if (!parsed.success) {
      send({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } });
      return;
    }
    const { id, method, params = [] } = parsed.data;
    const handler = handlers[method];
    if (!handler) {
      send({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } });
      return;
    }
    try {
      const result = handler(params, session);
      send({ jsonrpc: "2.0", id, result: result === undefined ? null : result });
    } catch (error) {
      if (error instanceof PoolError)
        send({
          jsonrpc: "2.0",
          id,
          error: { code: error.code, message: error.message, ...(error.data ? { data: error.data } : {}) },
        });
      else if (error instanceof z.ZodError)
        send({ jsonrpc: "2.0", id, error: { code: -32602, message: "Invalid params" } });
      else
        send({
          jsonrpc: "2.0",
          id,
          error: { code: 4003, message: `Client error: ${error instanceof Error ? error.message : String(error)}` },
        });
    }
  });
}

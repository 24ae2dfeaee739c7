import { join } from "node:path";
import {
  createDemoSubnet,
  createDevnet,
  type Devnet,
  DevnetChain,
  openFileBackedDevnet,
  registerExpertsThroughChain,
  restoreDevnet,
} from "../../adapters/chain/devnet/index.ts";
import { startDevnetRpc } from "../../adapters/chain/devnet/rpc/index.ts";
import { connectSubtensor } from "../../adapters/chain/subtensor/chain.ts";
import { signerFromUri } from "../../adapters/identity/sr25519.ts";
import type { Logger } from "../../adapters/log/logger.ts";
import { demoHotkeyUri } from "../../adapters/runtime/manifest-store.ts";
import type { MarketConfig } from "../../core/config/schema.ts";
import { DIGIT_EXPERT_RECIPES } from "../../core/experts/digit-experts.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { SPEECH_EXPERT_SOURCES } from "../../core/experts/speech-experts.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { Signer } from "../../core/ports/signer.ts";

/** Demo identities of the local subnet (derived, not secret: the devnet holds nothing of value). */
export const DEMO_OWNER_URI = "//market-demo//owner";
export const DEMO_VALIDATOR_URI = "//market-demo//validator";
export const DEMO_GATEWAY_URI = "//market-demo//gateway";

export interface ChainPart {
  readonly chain: Chain;
  readonly kind: "devnet" | "subtensor";
  readonly netuid: number;
  /** The embedded chain, when this process runs it. */
  readonly devnet: Devnet | null;
  readonly resumed: boolean;
  /**
   * ws:// URL of the devnet's JSON-RPC: with MARKET_CHAIN=rpc the market's own chain (through the subtensor adapter);
   * with the embedded chain, the miners' (their CLI finds it in /health).
   */
  readonly rpcUrl: string | null;
  /** The primary validator: honest, its weights are the ones the API shows and it trains the router. */
  readonly validator: Signer;
  /** Every validator the market runs, the primary first (MARKET_VALIDATORS on the devnet; one on Bittensor). */
  readonly validators: readonly Signer[];
  readonly gateway: Signer;
  /**
   * Registers served experts that are not on the subnet yet (devnet only; on Bittensor miners register themselves).
   * With MARKET_CHAIN=rpc through the subtensor adapter, each signed by the miner's own coldkey.
   */
  syncExperts(manifests: readonly ExpertManifest[]): Promise<number>;
  stop(): Promise<void>;
}

export interface ChainPartOptions {
  readonly config: MarketConfig;
  /** Where the devnet keeps its state; null = memory only. */
  readonly dataDir: string | null;
  readonly manifests: readonly ExpertManifest[];
  /** Blocks on a timer (`npm start`) or only when a test calls `produceBlock()`/`advance()`. */
  readonly blocks: "timer" | "manual";
  readonly log: Logger;
}

/**
 * The chain the market settles on: a Bittensor node when MARKET_CHAIN_URL is set, else the embedded devnet with the
 * demo subnet (netuid MARKET_NETUID), its validator and every served expert registered. Hotkeys come from
 * MARKET_VALIDATOR_MNEMONIC / MARKET_GATEWAY_MNEMONIC; against a real chain they are required.
 */
export async function startChain(options: ChainPartOptions): Promise<ChainPart> {
  const { config, log } = options;
  if (config.MARKET_CHAIN_URL !== undefined) {
    if (!config.MARKET_VALIDATOR_MNEMONIC || !config.MARKET_GATEWAY_MNEMONIC) {
      throw new Error("MARKET_VALIDATOR_MNEMONIC and MARKET_GATEWAY_MNEMONIC are required with MARKET_CHAIN_URL");
    }
    const chain = await connectSubtensor({ url: config.MARKET_CHAIN_URL });
    log.info("chain: subtensor node", { url: config.MARKET_CHAIN_URL, netuid: config.MARKET_NETUID });
    return {
      chain,
      kind: "subtensor",
      netuid: config.MARKET_NETUID,
      devnet: null,
      resumed: true,
      rpcUrl: null,
      validator: signerFromUri(config.MARKET_VALIDATOR_MNEMONIC),
      validators: [signerFromUri(config.MARKET_VALIDATOR_MNEMONIC)],
      gateway: signerFromUri(config.MARKET_GATEWAY_MNEMONIC),
      syncExperts: async () => 0,
      stop: () => chain.close(),
    };
  }

  // Quicknet publishes 4 rounds per 12 s block; the devnet beacon keeps that ratio to its own block time, so a
  // timelocked commit can open at the reveal epoch even when a demo epoch lasts only seconds.
  // Over JSON-RPC the beacon is published as pallet_drand's BeaconConfig, whose period is whole seconds (u32): there
  // it ticks at least once a second, which still opens a commit aimed 3 blocks into its reveal epoch.
  const beaconPeriod = Math.min(3, config.MARKET_BLOCK_MS / 4000);
  const devnetOptions = {
    blockTimeMs: config.MARKET_BLOCK_MS,
    beaconPeriod: config.MARKET_CHAIN === "rpc" ? Math.max(1, Math.round(beaconPeriod)) : beaconPeriod,
  };
  const file =
    options.dataDir === null
      ? null
      : await openFileBackedDevnet(
          {
            path: join(options.dataDir, "devnet.json"),
            onError: (error) => log.error("devnet save failed", { error }),
          },
          () => createDevnet(devnetOptions),
          (json) => restoreDevnet(json, devnetOptions),
        );
  const devnet = file?.devnet ?? createDevnet(devnetOptions);
  const validatorUri = config.MARKET_VALIDATOR_MNEMONIC ?? DEMO_VALIDATOR_URI;
  const overRpc = config.MARKET_CHAIN === "rpc";
  // The demo miners' own keys (deterministic demo wallets, each under its own coldkey): derived here, in memory,
  // for their registration only; no manifest, worker or file of the data folder holds them.
  // Only experts whose hotkey is their demo key: a miner's own hotkey registers itself (`market miner register`).
  const demoExperts = (manifests: readonly ExpertManifest[]) =>
    inDemoOrder(manifests).flatMap((m) => {
      const hotkeyUri = demoHotkeyUri(m.id);
      return signerFromUri(hotkeyUri).address === m.hotkey ? [{ hotkeyUri }] : [];
    });
  // The subnet, its validator and the validator's stake are set up on the devnet directly (the owner's part, and
  // stake that appears from nothing has no extrinsic). The experts: directly on the embedded devnet; with
  // MARKET_CHAIN=rpc each miner registers itself, a signed burned_register through the subtensor adapter.
  const register = (manifests: readonly ExpertManifest[]) =>
    createDemoSubnet(devnet, {
      experts: overRpc ? [] : demoExperts(manifests),
      validator: validatorUri,
      ownerColdkeyUri: DEMO_OWNER_URI,
      commitReveal: config.MARKET_COMMIT_REVEAL === "timelock",
      tempo: config.MARKET_TEMPO,
      moreValidators: moreDemoValidators(config.MARKET_VALIDATORS),
    });
  const demo = register(options.manifests);
  // A resumed devnet may hold validators of an earlier, larger MARKET_VALIDATORS: they stay staked and active but
  // set no weights any more, and their empty rows pull Yuma's stake-weighted median (hence incentive) down.
  const idle = moreDemoValidators(16)
    .slice(demo.moreValidators.length)
    .filter((v) => devnet.stakeOf(signerFromUri(v.hotkeyUri).address, demo.netuid) > 0n);
  if (idle.length > 0)
    log.warn("validators of an earlier start hold stake but run no more (raise MARKET_VALIDATORS or clear the data)", {
      idle: idle.length,
    });
  // With MARKET_CHAIN=rpc the validator, registrations and metagraph reads take the subtensor adapter's path
  // (SCALE over WebSocket, signed extrinsics through the pool), exactly as against a Bittensor node. The server
  // starts before the block timer, so the start-up registrations seal a block each at once (instant seal).
  const rpc = overRpc ? await startDevnetRpc({ devnet, host: "127.0.0.1", port: config.MARKET_DEVNET_RPC_PORT }) : null;
  // With the embedded chain the market calls the devnet directly, but a miner's own tools (`market miner register`,
  // `commit`, or any polkadot-js client) need a node to talk to: the same devnet is served over JSON-RPC for them, on
  // the same port. Best effort: a taken port costs miners their RPC (a warning names it), not the market its start.
  const minersRpc =
    rpc === null
      ? await startDevnetRpc({ devnet, host: "127.0.0.1", port: config.MARKET_DEVNET_RPC_PORT }).catch(
          (error: unknown) => {
            log.warn("the devnet's JSON-RPC for miners could not start; set MARKET_DEVNET_RPC_PORT", {
              port: config.MARKET_DEVNET_RPC_PORT,
              error,
            });
            return null;
          },
        )
      : null;
  const chain: Chain = rpc ? await connectSubtensor({ url: rpc.url }) : new DevnetChain(devnet);
  const registerOverRpc = (manifests: readonly ExpertManifest[]) =>
    registerExpertsThroughChain(chain, devnet, {
      netuid: demo.netuid,
      experts: demoExperts(manifests),
      ownerColdkeyUri: DEMO_OWNER_URI,
    });
  let registeredNow = 0;
  if (rpc) {
    try {
      registeredNow = (await registerOverRpc(options.manifests)).length;
    } catch (error) {
      await chain.close();
      await rpc.close();
      if (file) await file.stop();
      throw error;
    }
  }
  if (options.blocks === "timer")
    devnet.start((error) => log.error("devnet block failed", { block: devnet.block, error }));
  log.info(rpc ? "chain: devnet over JSON-RPC" : "chain: embedded devnet", {
    ...(rpc ? { url: rpc.url, registeredThroughAdapter: registeredNow } : {}),
    ...(minersRpc ? { minersRpcUrl: minersRpc.url } : {}),
    netuid: demo.netuid,
    block: devnet.block,
    resumed: file?.resumed ?? false,
    blockMs: config.MARKET_BLOCK_MS,
    tempo: config.MARKET_TEMPO,
    commitReveal: config.MARKET_COMMIT_REVEAL,
    experts: overRpc ? (devnet.metagraph(demo.netuid)?.n ?? 1) - 1 : demo.experts.length,
    validatorUid: demo.validatorUid,
  });
  return {
    chain,
    kind: "devnet",
    netuid: demo.netuid,
    devnet,
    resumed: file?.resumed ?? false,
    rpcUrl: rpc?.url ?? minersRpc?.url ?? null,
    validator: demo.validator,
    validators: [demo.validator, ...demo.moreValidators.map((v) => v.signer)],
    gateway: signerFromUri(config.MARKET_GATEWAY_MNEMONIC ?? DEMO_GATEWAY_URI),
    async syncExperts(manifests) {
      if (rpc) return (await registerOverRpc(manifests)).length;
      const before = devnet.metagraph(demo.netuid)?.n ?? 0;
      register(manifests);
      return (devnet.metagraph(demo.netuid)?.n ?? 0) - before;
    },
    async stop() {
      await minersRpc?.close();
      if (rpc) {
        await chain.close();
        await rpc.close();
      }
      if (file) await file.stop();
      else devnet.stop();
    },
  };
}

/**
 * The demo's further validators (derived keys, not secret), each under its own coldkey, with stakes that differ:
 * 900, 800, ... alpha after the primary's 1000 (at least 100), so no one of them holds a majority alone.
 */
export function moreDemoValidators(count: number): { hotkeyUri: string; coldkeyUri: string; stake: bigint }[] {
  return Array.from({ length: Math.max(0, count - 1) }, (_, i) => {
    const hotkeyUri = `${DEMO_VALIDATOR_URI}-${i + 2}`;
    return { hotkeyUri, coldkeyUri: `${hotkeyUri}//coldkey`, stake: BigInt(Math.max(100, 900 - 100 * i)) * 10n ** 9n };
  });
}

/**
 * The demo's miners register in the order their recipes list them, so a copying miner (copy04, the op15 re-export)
 * registers after the expert it copies, as a real copier would; the validator pays the first registered of a copy
 * group. Experts added later (`experts add`) come after, by id.
 */
const DEMO_ORDER = [...DIGIT_EXPERT_RECIPES.map((r) => r.id), ...SPEECH_EXPERT_SOURCES.map((s) => s.id)];
function inDemoOrder(manifests: readonly ExpertManifest[]): ExpertManifest[] {
  const rank = (m: ExpertManifest) => {
    const i = DEMO_ORDER.indexOf(m.id);
    return i < 0 ? DEMO_ORDER.length : i;
  };
  return [...manifests].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
}

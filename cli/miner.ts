import { readFile, stat } from "node:fs/promises";
import { Command, CommanderError } from "commander";
import { z } from "zod";
import { connectSubtensor } from "../adapters/chain/subtensor/chain.ts";
import { encodeCommitment, RETIREMENT } from "../core/experts/commitment.ts";
import type { Chain } from "../core/ports/chain.ts";
import { problemText, uploadModel } from "./miner-upload.ts";
import { addStarterModelCommand } from "./starter-model.ts";
import { createWallet, listWallets, loadWallet, walletDir } from "./wallets.ts";

/**
 * `npm run market -- miner <command>` (also the `market` bin): a miner's own wallet, registration, model commit and
 * status, against the chain (MARKET_CHAIN_URL, or the local devnet's RPC URL from the market's /health) and the
 * market (MARKET_URL). The wallet's secrets stay in its key files: they are read into this process only to sign.
 */
export interface MinerIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly stdin: () => Promise<string>;
  /** How the CLI reaches the chain (tests may pass the market's own port). */
  readonly connect?: (url: string) => Promise<Chain>;
}

const TAO = 1_000_000_000n;
/** Largest model file the CLI reads; the market's own cap (MARKET_MODEL_MAX_BYTES) is checked by the market. */
const MAX_MODEL_FILE = 1_000_000_000;

const Health = z.object({
  components: z
    .object({ chain: z.object({ netuid: z.number().int().optional(), rpcUrl: z.string().optional() }).partial() })
    .partial()
    .optional(),
});

/** The market's API: MARKET_API_URL, else MARKET_URL, else `npm start`'s, as the client commands resolve it. */
export function marketUrl(io: Pick<MinerIo, "env">): string {
  const url = io.env.MARKET_API_URL?.trim() || io.env.MARKET_URL?.trim() || "http://127.0.0.1:8787";
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new Error(`MARKET_API_URL must be an http(s) URL, got "${url}"`);
  return url.replace(/\/+$/, "");
}

/**
 * The chain and subnet the miner commands act on: MARKET_CHAIN_URL and MARKET_NETUID, else what the market's /health
 * names (`npm start` names both; a deployed API names neither). No netuid is ever guessed: on finney netuid 1 is
 * someone else's subnet, and `register` would burn TAO there.
 */
async function chainOf(io: MinerIo): Promise<{ chain: Chain; netuid: number }> {
  let url = io.env.MARKET_CHAIN_URL?.trim();
  const given = io.env.MARKET_NETUID?.trim();
  let netuid = given ? netuidOf(given) : undefined;
  if (given && netuid === undefined)
    throw new Error(`MARKET_NETUID must be a subnet id from 1 to 65535, got "${given}"`);
  // A chain named here takes its subnet from here too: the market's /health describes the market's own chain.
  if (url && netuid === undefined)
    throw new Error("set MARKET_NETUID too: MARKET_CHAIN_URL names the chain, and no subnet is guessed on it");
  if (!url) {
    const api = marketUrl(io);
    const res = await fetch(`${api}/health`).catch((error: unknown) => {
      throw new Error(`the market at ${api} did not answer (${String(error)}): set MARKET_CHAIN_URL and MARKET_NETUID`);
    });
    const health = Health.safeParse(await res.json().catch(() => null));
    const chain = health.success ? health.data.components?.chain : undefined;
    url = chain?.rpcUrl;
    netuid ??= chain?.netuid !== undefined ? netuidOf(String(chain.netuid)) : undefined;
  }
  if (!url) throw new Error("set MARKET_CHAIN_URL and MARKET_NETUID (the market's /health names no chain)");
  if (netuid === undefined)
    throw new Error("set MARKET_NETUID to your subnet's netuid (the market's /health names no subnet)");
  const chain = await (io.connect ?? ((u: string) => connectSubtensor({ url: u })))(url);
  return { chain, netuid };
}

/** A netuid in decimal digits from 1 to 65535 (not "0x2a" or "1e1", which Number() would take). */
function netuidOf(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

export async function run(args: string[], io: MinerIo = processIo()): Promise<number> {
  const program = minerCommand(io, "market miner");
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** The `miner` command tree (also mounted under the `market` program). */
export function minerCommand(io: MinerIo = processIo(), name = "miner"): Command {
  const program = new Command(name)
    .description("A miner's wallet, registration, model commitment and status")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();
  const walletOpt = (c: Command) =>
    c.requiredOption("--wallet <name>", "the wallet to use").option("--json", "JSON output");
  const print = (json: boolean | undefined, value: unknown, text: string) =>
    io.out(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
  const dir = walletDir(io.env);

  const wallet = program.command("wallet").description("create, import or list wallets (under MARKET_WALLET_DIR)");
  walletOpt(wallet.command("create").description("a new wallet: coldkey and hotkey from fresh mnemonics")).action(
    async (o: { wallet: string; json?: boolean }) => {
      const w = await createWallet(dir, o.wallet);
      print(
        o.json,
        { name: w.name, coldkey: w.coldkey.address, hotkey: w.hotkey.address, dir },
        [
          `wallet ${w.name} created in ${dir} (key files mode 0600; back them up)`,
          `coldkey ${w.coldkey.address}`,
          `hotkey  ${w.hotkey.address}`,
        ].join("\n"),
      );
    },
  );
  walletOpt(
    wallet
      .command("import")
      .description(
        "a wallet from mnemonics on standard input: the coldkey's, then optionally the hotkey's (one a line)",
      ),
  ).action(async (o: { wallet: string; json?: boolean }) => {
    const lines = (await io.stdin())
      .split("\n")
      .map((l) => l.trim().replace(/\s+/g, " "))
      .filter((l) => l !== "");
    if (lines.length === 0 || lines.length > 2) throw new Error("give one or two mnemonics on standard input");
    const [coldkey, hotkey] = lines;
    const w = await createWallet(dir, o.wallet, { ...(coldkey ? { coldkey } : {}), ...(hotkey ? { hotkey } : {}) });
    print(
      o.json,
      { name: w.name, coldkey: w.coldkey.address, hotkey: w.hotkey.address, dir },
      [`wallet ${w.name} imported into ${dir}`, `coldkey ${w.coldkey.address}`, `hotkey  ${w.hotkey.address}`].join(
        "\n",
      ),
    );
  });
  wallet
    .command("list")
    .description("the wallets and their addresses")
    .option("--wallet <name>", "only this wallet")
    .option("--json", "JSON output")
    .action(async (o: { wallet?: string; json?: boolean }) => {
      const all = (await listWallets(dir)).filter((w) => o.wallet === undefined || w.name === o.wallet);
      print(
        o.json,
        all,
        all.map((w) => `${w.name}\tcoldkey ${w.coldkey}\thotkey ${w.hotkey}`).join("\n") || `no wallets in ${dir}`,
      );
    });

  walletOpt(program.command("register").description("burned registration of the wallet's hotkey on the subnet"))
    .requiredOption("--max-price <tao>", "the most TAO to burn (refused when the burn is higher)")
    .action(async (o: { wallet: string; json?: boolean; maxPrice: string }) => {
      if (!/^\d+(\.\d{1,9})?$/.test(o.maxPrice)) throw new Error("--max-price: a TAO amount, e.g. 1 or 0.5");
      const [whole = "0", frac = ""] = o.maxPrice.split(".");
      const max = BigInt(whole) * TAO + BigInt(frac.padEnd(9, "0"));
      const w = await loadWallet(dir, o.wallet);
      const { chain, netuid } = await chainOf(io);
      try {
        const cost = await chain.registrationCost(netuid);
        if (cost > max) throw new Error(`the burn is ${cost} rao, above --max-price ${max} rao: nothing was done`);
        const outcome = await chain.register(w.coldkey, w.hotkey, netuid);
        if (!outcome.ok) throw new Error(`registration refused: ${outcome.error}`);
        const event = outcome.events.find((e) => e.startsWith("NeuronRegistered:"));
        const uid = event
          ? Number(event.split(":")[1])
          : (await chain.metagraph(netuid)).hotkeys.indexOf(w.hotkey.address);
        print(
          o.json,
          { hotkey: w.hotkey.address, netuid, uid, burned: String(cost), block: outcome.block },
          `registered ${w.hotkey.address} on netuid ${netuid} as uid ${uid} (burned ${cost} rao, block ${outcome.block})`,
        );
      } finally {
        await chain.close();
      }
    });

  walletOpt(
    program.command("commit").description("upload a model to the market, then commit {task, sha256, size} on chain"),
  )
    .requiredOption("--task <task>", "the task the model serves (e.g. digits)")
    .requiredOption("--model <file>", "the .onnx file")
    .action(async (o: { wallet: string; json?: boolean; task: string; model: string }) => {
      const w = await loadWallet(dir, o.wallet);
      const info = await stat(o.model);
      if (info.size > MAX_MODEL_FILE) throw new Error(`${o.model} is larger than ${MAX_MODEL_FILE} bytes`);
      const bytes = new Uint8Array(await readFile(o.model));
      // The chain first: an upload whose commit could not name its subnet would only be left behind.
      const { chain, netuid } = await chainOf(io);
      try {
        const uploaded = await uploadModel(fetch, marketUrl(io), w.hotkey, o.task, bytes);
        const data = encodeCommitment({ task: o.task, sha256: uploaded.sha256, size: uploaded.size });
        const outcome = await chain.setCommitment(w.hotkey, netuid, data);
        if (!outcome.ok) throw new Error(`commitment refused: ${outcome.error} (the model is uploaded; commit again)`);
        print(
          o.json,
          {
            hotkey: w.hotkey.address,
            uid: uploaded.uid,
            task: o.task,
            sha256: uploaded.sha256,
            size: uploaded.size,
            block: outcome.block,
          },
          `committed ${o.task} model ${uploaded.sha256} (${uploaded.size} bytes) for uid ${uploaded.uid} at block ${outcome.block}; served within seconds`,
        );
      } finally {
        await chain.close();
      }
    });

  walletOpt(
    program
      .command("status")
      .description("uid, committed model, served or not and why, scores, weight, emission, fees"),
  ).action(async (o: { wallet: string; json?: boolean }) => {
    const w = await loadWallet(dir, o.wallet);
    const res = await fetch(`${marketUrl(io)}/v1/miners/${w.hotkey.address}`);
    const body: unknown = await res.json().catch(() => null);
    if (res.status !== 200) throw new Error(problemText(res.status, body));
    const s = body as Record<string, unknown>;
    print(o.json, s, statusText(s));
  });

  walletOpt(
    program.command("retire").description("commit a retirement: the market stops serving this hotkey's model"),
  ).action(async (o: { wallet: string; json?: boolean }) => {
    const w = await loadWallet(dir, o.wallet);
    const { chain, netuid } = await chainOf(io);
    try {
      const outcome = await chain.setCommitment(w.hotkey, netuid, RETIREMENT);
      if (!outcome.ok) throw new Error(`retirement refused: ${outcome.error}`);
      print(
        o.json,
        { hotkey: w.hotkey.address, retired: true, block: outcome.block },
        `retired ${w.hotkey.address} at block ${outcome.block}`,
      );
    } finally {
      await chain.close();
    }
  });

  addStarterModelCommand(program, print);
  return program;
}

/** The status for people: one line per field, then the per-epoch history as a table (newest first). */
function statusText(s: Record<string, unknown>): string {
  const { history, feeShares, ...rest } = s;
  const lines = Object.entries(rest).map(
    ([k, v]) => `${k.padEnd(11)} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`,
  );
  if (Array.isArray(feeShares)) lines.push(`${"feeShares".padEnd(11)} ${feeShares.length} recent`);
  const epochs = Array.isArray(history) ? (history as Record<string, unknown>[]) : [];
  if (epochs.length > 0) {
    lines.push("epoch      task     shapley       ema    weight  copyOf");
    for (const h of epochs) {
      const n = (v: unknown) => (typeof v === "number" ? v.toFixed(4) : "-").padStart(9);
      lines.push(
        `${String(h.epoch).padEnd(10)} ${String(h.task).padEnd(7)} ${n(h.shapley)} ${n(h.ema)} ${n(h.weight)}  ${h.copyOf ?? "-"}`,
      );
    }
  }
  return lines.join("\n");
}

export function processIo(): MinerIo {
  return {
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer);
        if (chunks.reduce((n, c) => n + c.length, 0) > 10_000) throw new Error("standard input too long");
      }
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

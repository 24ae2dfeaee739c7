// Issue 15 acceptance: a miner with its own wallet registers, uploads and commits a digit model, and is served and
// weighted; the operator never sees its secret; copies earn nothing; a new commitment replaces the old model; bad
// uploads and bad commitments are refused and change nothing.
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyFile } from "../adapters/identity/keyfile.ts";
import { signerFromUri } from "../adapters/identity/sr25519.ts";
import { createLogger, silentLogger } from "../adapters/log/logger.ts";
import { FolderModelStore } from "../adapters/model-store/folder.ts";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { mlpToOnnx } from "../adapters/runtime/onnx-writer.ts";
import { run as miner } from "../cli/miner.ts";
import { trainStarterDigitModel } from "../cli/starter-model.ts";
import { createMarketClient } from "../client/client.ts";
import { signEpistulaBytes } from "../core/epistula/epistula.ts";
import { epistulaToHeaders } from "../core/epistula/headers.ts";
import { encodeCommitment } from "../core/experts/commitment.ts";
import { initMlp } from "../core/experts/train/mlp.ts";
import type { Chain } from "../core/ports/chain.ts";
import type { ModelStore } from "../core/ports/model-store.ts";
import { mulberry32 } from "../core/tasks/prng.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { type ChainDirectory, chainDirectory } from "../functions/market/chain-directory.ts";
import { taskServing } from "../functions/market/miners.ts";
import { waitFor } from "../gpu-workers/testing/jobs.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

const TEMPO = 10;
let market: EphemeralMarket;
let walletDir: string;
let work: string;
const logLines: string[] = [];

/** The CLI in this process against the market's own chain port (the devnet) and its HTTP API. */
async function cli(args: string[], stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const chain = market.chain.chain;
  const code = await miner(args, {
    env: {
      MARKET_URL: market.url,
      MARKET_WALLET_DIR: walletDir,
      MARKET_CHAIN_URL: "in-process",
      MARKET_NETUID: String(market.chain.netuid),
    },
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdin: async () => stdin,
    // The market's chain, minus close (the CLI closes its connection after each command).
    connect: async () => Object.create(chain, { close: { value: async () => {} } }) as Chain,
  });
  return { code, out, err };
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cli([...args, "--json"]);
  if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.err}`);
  return JSON.parse(r.out) as T;
}

/** A useful digit model, distinct from every demo expert: what `market miner starter-model` writes. */
async function trainedDigitModel(file: string, seed: number): Promise<void> {
  await writeFile(file, await trainStarterDigitModel(seed));
}

async function secretsOf(wallet: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of ["coldkey", "hotkeys/default"]) {
    out.push(KeyFile.parse(JSON.parse(await readFile(join(walletDir, wallet, f), "utf8"))).secretUri);
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) out.push(...(await filesUnder(path)));
    else if (info.isFile()) out.push(path);
  }
  return out;
}

interface MinerJson {
  uid: number;
  model: string | null;
  served: boolean;
  reason: string;
  weight: number;
  shapley: number;
  feeBalance: number;
  answered: { shadow: number; paid: number };
  history: { epoch: number; task: string; shapley: number; weight: number; copyOf: number | null }[];
  feeShares: { requestId: string; amount: number }[];
}

async function priceOf(task: string): Promise<number> {
  const res = await fetch(`${market.url}/v1/tasks`);
  const body = (await res.json()) as { tasks: { id: string; pricePerAnswer: number }[] };
  const found = body.tasks.find((t) => t.id === task);
  if (!found) throw new Error(`no task ${task}`);
  return found.pricePerAnswer;
}

/** The market's directory builder as a restarted market would start it: same chain, same store, nothing in memory. */
async function restartedDirectory(store: ModelStore): Promise<ChainDirectory> {
  const directory = chainDirectory({
    chain: market.chain.chain,
    netuid: market.chain.netuid,
    store,
    tasks: taskServing(createTaskRegistry(mediaDecoders)),
    log: silentLogger,
  });
  await directory.refresh();
  return directory;
}

async function paidAnswerFrom(uid: number, apiKey: string, pixels: number[]): Promise<boolean> {
  const client = createMarketClient({ baseUrl: market.url, apiKey });
  const res = await client.infer("digits", { pixels }, { k: 8, waitSeconds: 10 });
  const hit = res.ok && res.data.status === "succeeded" && res.data.experts.some((e) => e.uid === uid);
  return hit;
}

beforeAll(async () => {
  walletDir = await mkdtemp(join(tmpdir(), "miner-wallets-"));
  work = await mkdtemp(join(tmpdir(), "miner-work-"));
  market = await startEphemeralMarket({
    env: { MARKET_TEMPO: String(TEMPO), MARKET_MODEL_MAX_BYTES: "400000", MARKET_EXPLORE_SHARE: "1" },
    log: createLogger({ level: "debug", write: (line) => logLines.push(line) }),
  });
  await trainedDigitModel(join(work, "a.onnx"), 101);
  await trainedDigitModel(join(work, "b.onnx"), 202);
}, 240_000);

afterAll(async () => {
  await market?.stop();
  await rm(walletDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe("a miner with its own wallet", () => {
  let uid = -1;
  let apiKey = "";
  let pixels: number[] = [];

  it("registers, commits a digit model, is served within 10 s, gets a weight within two epochs, then answers paid queries", async () => {
    const created = await json<{ hotkey: string; coldkey: string }>(["wallet", "create", "--wallet", "alice"]);
    const reg = await json<{ uid: number }>(["register", "--wallet", "alice", "--max-price", "0"]);
    uid = reg.uid;
    expect((await market.chain.chain.metagraph(market.chain.netuid)).hotkeys[uid]).toBe(created.hotkey);
    expect((await market.chain.chain.metagraph(market.chain.netuid)).coldkeys[uid]).toBe(created.coldkey);

    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const key = await admin.createKey({ name: "client", credits: 10_000_000 });
    if (!key.ok) throw new Error(JSON.stringify(key.problem));
    apiKey = key.data.key;
    const mnist = await loadMnist();
    pixels = Array.from(mnist.pixels.subarray(0, 784));

    const committed = await json<{ sha256: string; block: number }>([
      "commit",
      "--wallet",
      "alice",
      "--task",
      "digits",
      "--model",
      join(work, "a.onnx"),
    ]);
    // Within 10 s of the commitment it answers paid queries in the exploration lane (MARKET_EXPLORE_SHARE=1 here):
    // its signed answer is recorded, but (issue 16) the client's result averages only gate-known experts and the
    // client pays only for those.
    const at = Date.now();
    const price = await priceOf("digits");
    const status = await waitFor(
      "the committed model answers paid queries in the shadow",
      async () => {
        const res = await createMarketClient({ baseUrl: market.url, apiKey }).infer(
          "digits",
          { pixels },
          { k: 8, waitSeconds: 10 },
        );
        if (!res.ok || res.data.status !== "succeeded") throw new Error(JSON.stringify(res));
        expect(res.data.experts.map((e) => e.uid)).not.toContain(uid);
        expect(res.data.receipt.payload.experts.map((e) => e.uid)).not.toContain(uid);
        expect(res.data.cost).toBe(price * res.data.experts.length);
        const s = await json<MinerJson>(["status", "--wallet", "alice"]);
        return s.served && s.model === committed.sha256 && s.answered.shadow > 0 && s;
      },
      10_000,
      100,
    );
    expect(Date.now() - at).toBeLessThan(10_000);
    expect(status).toMatchObject({ uid, model: committed.sha256, served: true, feeBalance: 0 });
    expect(status.answered.paid).toBe(0);

    const devnet = market.chain.devnet;
    if (!devnet) throw new Error("devnet expected");
    let weight = 0;
    for (let epoch = 0; epoch < 2 && weight === 0; epoch++) {
      await market.runValidatorEpoch();
      devnet.advance(TEMPO);
      const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
      const validatorUid = metagraph.hotkeys.indexOf(market.chain.validator.address);
      weight = new Map(metagraph.weights[validatorUid] ?? []).get(uid) ?? 0;
    }
    expect(weight).toBeGreaterThan(0);
    // Scored positive: now clients' paid queries reach it.
    await waitFor("the miner answers a paid query", () => paidAnswerFrom(uid, apiKey, pixels), 10_000, 250);
    // Fee shares reach earnings when the ledger rolls settled queries up (by the sweeper at the latest): sweep now
    // rather than wait for its timer.
    await market.dataPlane.ledger.sweepHolds(Date.now());
    const after = await json<MinerJson>(["status", "--wallet", "alice"]);
    expect(after.weight).toBeGreaterThan(0);
    expect(after.shapley).toBeGreaterThan(0);
    // Its answers now enter clients' results and earn fee shares; the status shows the epochs that weighted it.
    expect(after.answered.paid).toBeGreaterThan(0);
    expect(after.feeBalance).toBeGreaterThan(0);
    expect(after.feeShares.length).toBeGreaterThan(0);
    const weighted = after.history.find((h) => h.weight > 0);
    expect(weighted).toMatchObject({ task: "digits", copyOf: null });
    expect(weighted?.shapley).toBeGreaterThan(0);

    // The operator never held the miner's secret: not in the data folder, not in this process's environment
    // (the market's), not in any log line.
    const secrets = await secretsOf("alice");
    for (const file of await filesUnder(market.dataDir)) {
      const text = await readFile(file, "latin1");
      for (const s of secrets) expect(text.includes(s), file).toBe(false);
    }
    const env = JSON.stringify(process.env);
    const logs = logLines.join("\n");
    for (const s of secrets) {
      expect(env.includes(s)).toBe(false);
      expect(logs.includes(s)).toBe(false);
    }
  }, 300_000);

  it("a copy committed after its original is not served and earns nothing; a new commitment replaces the old", async () => {
    await json(["wallet", "create", "--wallet", "copier"]);
    const copierUid = (await json<{ uid: number }>(["register", "--wallet", "copier", "--max-price", "0"])).uid;
    await json(["commit", "--wallet", "copier", "--task", "digits", "--model", join(work, "a.onnx")]);
    await market.chain.devnet?.advance(1);
    const copy = await waitFor(
      "the copy is judged",
      async () => {
        const s = await json<{ served: boolean; reason: string; model: string | null }>([
          "status",
          "--wallet",
          "copier",
        ]);
        return s.reason.startsWith("copy") && s;
      },
      10_000,
      250,
    );
    expect(copy).toMatchObject({ served: false, model: null });
    expect(copy.reason).toContain(`uid ${uid} committed this model first`);
    expect(await paidAnswerFrom(copierUid, apiKey, pixels)).toBe(false);

    // The original commits another model: the market serves the new digest for its uid, and the old one is gone.
    const next = await json<{ sha256: string }>([
      "commit",
      "--wallet",
      "alice",
      "--task",
      "digits",
      "--model",
      join(work, "b.onnx"),
    ]);
    await waitFor(
      "the new model is served",
      async () => (await json<{ model: string }>(["status", "--wallet", "alice"])).model === next.sha256,
      10_000,
      250,
    );
    const served = (await market.experts()).length;
    expect(served).toBeGreaterThan(0);
    const doc = JSON.parse(
      (await readFile(join(market.dataDir, "model-store", "directory", "experts.json"), "utf8")) || "{}",
    ) as {
      experts: { hotkey: string; model: { sha256: string } }[];
    };
    const aliceHotkey = signerFromUri((await secretsOf("alice"))[1] ?? "").address;
    const mine = doc.experts.filter((e) => e.hotkey === aliceHotkey);
    expect(mine.map((e) => e.model.sha256)).toEqual([next.sha256]);
    await waitFor("the new model answers", () => paidAnswerFrom(uid, apiKey, pixels), 10_000, 250);

    // Restart: the original has moved on, so the chain alone shows the copier as the only committer of model a.
    // Precedence survives because the directory builder reads the first committers back from the published
    // directory; without them (a store that never published one) the copy would be served.
    const live = new FolderModelStore(join(market.dataDir, "model-store"));
    const readOnly: ModelStore = Object.assign(Object.create(live) as ModelStore, { writeDirectory: async () => {} });
    const copierHotkey = (await market.chain.chain.metagraph(market.chain.netuid)).hotkeys[copierUid] ?? "";
    const restarted = await restartedDirectory(readOnly);
    const judged = restarted.decision(copierHotkey)?.decision;
    expect(judged).toMatchObject({ served: false });
    expect(judged?.served === false && judged.reason).toContain(`uid ${uid} committed this model first`);
    const amnesic = await restartedDirectory(
      Object.assign(Object.create(live) as ModelStore, {
        readDirectory: async () => null,
        writeDirectory: async () => {},
      }),
    );
    expect(amnesic.decision(copierHotkey)?.decision.served).toBe(true);
    expect(restarted.decision(aliceHotkey)?.decision).toMatchObject({
      served: true,
      entry: { model: { sha256: next.sha256 } },
    });
    expect(await paidAnswerFrom(copierUid, apiKey, pixels)).toBe(false);
    const copierStatus = await json<MinerJson>(["status", "--wallet", "copier"]);
    expect(copierStatus).toMatchObject({ served: false, feeBalance: 0, answered: { shadow: 0, paid: 0 } });
  }, 120_000);

  it("refuses bad uploads and commitments with a clear error and changes nothing", async () => {
    const storeDir = join(market.dataDir, "model-store", "models");
    const before = (await readdir(storeDir)).sort();

    // Wrong tensors: a model with 100 inputs.
    const wrong = join(work, "wrong.onnx");
    await writeFile(wrong, mlpToOnnx(initMlp([100, 8, 10], mulberry32(3))));
    const bad = await cli(["commit", "--wallet", "alice", "--task", "digits", "--model", wrong]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("model_contract");
    expect(bad.err).toContain('"x" float32[?,784]');
    expect(bad.err).toContain('"probs" float32[?,10]');

    // Over the cap: refused from its declared size.
    const big = join(work, "big.onnx");
    await writeFile(big, new Uint8Array(500_000));
    const tooBig = await cli(["commit", "--wallet", "alice", "--task", "digits", "--model", big]);
    expect(tooBig.err).toContain("413 payload_too_large");

    // Unregistered hotkey, then a wrongly signed upload from a registered one.
    await json(["wallet", "create", "--wallet", "stranger"]);
    const stranger = await cli(["commit", "--wallet", "stranger", "--task", "digits", "--model", join(work, "a.onnx")]);
    expect(stranger.err).toContain("403 not_registered");
    const bytes = new Uint8Array(await readFile(join(work, "a.onnx")));
    const aliceHotkey = signerFromUri((await secretsOf("alice"))[1] ?? "");
    const sig = signEpistulaBytes(aliceHotkey, bytes, "");
    const forged = { ...sig, signature: signEpistulaBytes(signerFromUri("//Mallory"), bytes, "").signature };
    const res = await fetch(`${market.url}/v1/models?task=digits`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", ...epistulaToHeaders(forged) },
      body: bytes,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("bad_signature");
    expect((await readdir(storeDir)).sort()).toEqual(before);

    // A commitment naming a digest that was never uploaded changes nothing: the uid keeps its served model, and its
    // status says why the new commitment is not served.
    const statusBefore = await json<{ model: string }>(["status", "--wallet", "alice"]);
    const never = "ab".repeat(32);
    const outcome = await market.chain.chain.setCommitment(
      aliceHotkey,
      market.chain.netuid,
      encodeCommitment({ task: "digits", sha256: never, size: 1234 }),
    );
    expect(outcome.ok).toBe(true);
    const status = await waitFor(
      "the bad commitment is judged",
      async () => {
        const s = await json<{ served: boolean; reason: string; model: string | null }>([
          "status",
          "--wallet",
          "alice",
        ]);
        return s.reason.includes("never uploaded") && s;
      },
      10_000,
      250,
    );
    expect(status.reason).toContain(`model ${never} was never uploaded`);
    expect(status).toMatchObject({ served: true, model: statusBefore.model });
    await waitFor("the kept model still answers", () => paidAnswerFrom(uid, apiKey, pixels), 10_000, 250);
    expect((await readdir(storeDir)).sort()).toEqual(before);
  }, 120_000);
});

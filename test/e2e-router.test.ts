import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../adapters/log/logger.ts";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { mlpToOnnx } from "../adapters/runtime/onnx-writer.ts";
import { loadValidationSources, type ValidationSources } from "../adapters/runtime/validation-sources.ts";
import { addExpert } from "../cli/experts-group.ts";
import { createMarketClient } from "../client/client.ts";
import { parseConfig } from "../core/config/schema.ts";
import { type DigitExpertRecipe, makeDigitExpertModel } from "../core/experts/digit-experts.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { ScoreStore } from "../core/ports/scores.ts";
import { parseStoredGate } from "../core/routing/index.ts";
import { DIGIT_CLASSES, DIGIT_PIXELS, type DigitsOutput } from "../core/tasks/digits.ts";
import { digitRow, digitValidationSource } from "../core/tasks/digits-data.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { expertDirectory } from "../functions/market/directory.ts";
import { marketRouter } from "../functions/market/router.ts";
import { epochSeed, seedToUint32 } from "../functions/validator/seed.ts";
import { seedExperts } from "../stacks/ephemeral/experts-cache.ts";
import { type Market, startMarket } from "../stacks/market.ts";

/**
 * The learned gate on a running market (issue 8): one validator epoch sends the bootstrap digits and the hidden
 * items to every expert through the queue, trains the gate from their losses and stores it; the API's router then
 * sends hidden digits to the right experts, never to the adversary or the noise, and a genuinely new good expert
 * added at run time gets traffic after the next epoch.
 */
const TEMPO = 10;
const EVAL_ROWS = 400;
// The validator's seed secret on a market without a mnemonic (stacks/market.ts): to leave out its trained items.
const DEMO_SEED_SECRET = "market-demo-validator-seed";
const NEW_EXPERT = "fresh-generalist";

const registry = createTaskRegistry(mediaDecoders);
const digits = registry.get("digits");

interface EvalSet {
  readonly rows: number[];
  readonly labels: number[];
}

/** A ScoreStore's methods bound to it, so one can be overridden in a plain object. */
function bindAll(store: ScoreStore): ScoreStore {
  return {
    putEpochScores: (s) => store.putEpochScores(s),
    epochScores: (t, e) => store.epochScores(t, e),
    latestScores: (t) => store.latestScores(t),
    claimSubmission: (s) => store.claimSubmission(s),
    updateSubmission: (n, e, p) => store.updateSubmission(n, e, p),
    submission: (n, e) => store.submission(n, e),
    recentSubmissions: (n, l) => store.recentSubmissions(n, l),
    putRouter: (p) => store.putRouter(p),
    latestRouter: (t) => store.latestRouter(t),
    recordShadowAnswer: (a) => store.recordShadowAnswer(a),
    shadowAnswerCount: (h, l) => store.shadowAnswerCount(h, l),
  };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > (values[best] ?? Number.NEGATIVE_INFINITY)) best = i;
  });
  return best;
}

describe("learned routing on a running market", () => {
  let market: Market;
  let dataDir: string;
  let sources: ValidationSources;
  let uidOf: Map<string, number>;
  let evalSet: EvalSet;
  const outputs = new Map<string, DigitsOutput[]>();

  const api = () =>
    marketRouter({
      registry,
      directory: expertDirectory({
        chain: market.chain.chain,
        netuid: market.chain.netuid,
        scores: market.dataPlane.scores,
        manifests: market.experts,
        validatorHotkey: market.chain.validator.address,
      }),
      scores: market.dataPlane.scores,
    });

  /** The same router as if no gate had been trained (what routing did before this issue): prior and exploration. */
  function priorOnly(): ReturnType<typeof marketRouter> {
    const scores = market.dataPlane.scores;
    return marketRouter({
      registry,
      directory: expertDirectory({
        chain: market.chain.chain,
        netuid: market.chain.netuid,
        scores,
        manifests: market.experts,
        validatorHotkey: market.chain.validator.address,
      }),
      scores: { ...bindAll(scores), latestRouter: async () => null },
    });
  }

  async function runEpoch() {
    const report = await market.runValidatorEpoch();
    market.chain.devnet?.advance(TEMPO);
    return report;
  }

  async function refreshUids(): Promise<void> {
    const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
    const manifests = await market.experts();
    uidOf = new Map(manifests.map((m) => [m.id, metagraph.hotkeys.indexOf(m.hotkey)]));
  }

  /** Every digit expert's answer on the evaluation rows, from the same ONNX files the workers serve. */
  async function answerAll(manifests: readonly ExpertManifest[]): Promise<void> {
    const runtime = createOnnxRuntime({ preferCuda: false, log: () => {} });
    const inputs = evalSet.rows.map((row) => digitRow(sources.digitData, row));
    for (const m of manifests) {
      if (m.task !== "digits" || outputs.has(m.id)) continue;
      const model = await runtime.load(m);
      outputs.set(m.id, (await model.runBatch(inputs)) as DigitsOutput[]);
      await model.close();
    }
  }

  /** Routes every evaluation row with k=2 through the API's router; accuracy of the gated answers, picks per id. */
  async function routeAll(withGate = true): Promise<{ accuracy: number; picks: Map<string, number> }> {
    if (!digits) throw new Error("no digit task");
    const router = withGate ? api() : priorOnly();
    const idOf = new Map([...uidOf].map(([id, uid]) => [uid, id]));
    const picks = new Map<string, number>();
    let correct = 0;
    for (const [i, row] of evalSet.rows.entries()) {
      const routed = await router.route("digits", digitRow(sources.digitData, row), 2);
      const answers = routed.map((r) => outputs.get(idOf.get(r.uid) ?? "")?.[i]);
      for (const r of routed) picks.set(idOf.get(r.uid) ?? "?", (picks.get(idOf.get(r.uid) ?? "?") ?? 0) + 1);
      const combined = digits.combine(
        answers.filter((a) => a !== undefined),
        routed.map((r) => r.gate),
      ) as DigitsOutput;
      if (argmax(combined.probs) === evalSet.labels[i]) correct++;
    }
    return { accuracy: correct / evalSet.rows.length, picks };
  }

  beforeAll(async () => {
    // A private copy of the test experts: `experts add` writes into this folder, never into the shared cache.
    dataDir = await mkdtemp(join(tmpdir(), "market-router-"));
    await seedExperts(dataDir);
    const config = parseConfig({
      PORT: "0",
      MARKET_RESOURCE_PREFIX: `t${Math.random().toString(36).slice(2, 8)}-`,
      MARKET_WORKERS: "1",
      MARKET_BLOCK_MS: "100",
      MARKET_TEMPO: String(TEMPO),
      MARKET_VALIDATION_ITEMS: "64",
      MARKET_DEVNET_RPC_PORT: "0",
    });
    market = await startMarket({
      config,
      dataDir,
      persistent: false,
      adminToken: `test-admin-${crypto.randomUUID()}`,
      workers: "inprocess",
      validator: "manual",
      blocks: "manual",
      // Every expert must answer every item (the validator returns as soon as all answers are in).
      validatorAnswerTimeoutMs: 60_000,
      log: silentLogger,
    });
    // As the ephemeral stack does: an epoch's worth of blocks gives the validator its permit.
    market.chain.devnet?.advance(Math.ceil(TEMPO / 4) + 1);
    sources = await loadValidationSources();
    await refreshUids();
  });
  afterAll(async () => {
    await market?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("from the first query: the build gate routes hidden digits at k=2 to 0.95 and pays no bad expert", async () => {
    // No epoch has run: the router is the gate `npm run experts` trained, stored before the API opened (issue 16).
    const stored = await market.dataPlane.scores.latestRouter("digits");
    expect(stored?.version).toBe(1);
    expect(stored?.epoch).toBe(0);
    expect(await market.dataPlane.scores.latestScores("digits")).toBeNull();
    const rows = sources.digitSplit.hidden.slice(0, EVAL_ROWS);
    evalSet = { rows, labels: rows.map((row) => sources.digitData.labels[row] ?? -1) };
    await answerAll(await market.experts());
    const routed = await routeAll();
    console.log(JSON.stringify({ fresh: true, routedTop2: routed.accuracy, picks: Object.fromEntries(routed.picks) }));
    expect(routed.accuracy).toBeGreaterThanOrEqual(0.95);
    for (const bad of ["copy04", "adversarial", "noise"]) expect(routed.picks.get(bad) ?? 0, bad).toBe(0);

    // Paid queries through the API in the first minute, at the default k (3): none reaches a bad expert.
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({
      name: "fresh",
      credits: 1_000_000,
      rateLimit: { perMinute: 100_000, burst: 1000 },
    });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const bad = new Set(["copy04", "adversarial", "noise"].map((id) => uidOf.get(id)));
    let right = 0;
    for (const [i, row] of evalSet.rows.slice(0, 30).entries()) {
      const answer = await client.infer("digits", { pixels: digitRow(sources.digitData, row) }, { waitSeconds: 20 });
      if (!answer.ok) throw new Error(JSON.stringify(answer.problem));
      const data = answer.data as { experts: { uid: number }[]; output: DigitsOutput };
      expect(data.experts.length).toBeGreaterThan(0);
      for (const e of data.experts) expect(bad.has(e.uid), `uid ${e.uid}`).toBe(false);
      if (argmax(data.output.probs) === evalSet.labels[i]) right++;
    }
    expect(right).toBeGreaterThanOrEqual(27);
    outputs.clear();
  });

  it("after one epoch with training, top-2 routing beats the plain average and never picks the bad experts", async () => {
    const report = await runEpoch();
    const stored = await market.dataPlane.scores.latestRouter("digits");
    expect(stored?.version).toBe(2);
    expect(stored?.epoch).toBe(report.epoch);
    const gate = parseStoredGate(stored?.params);
    if (!gate.ok) throw new Error(gate.error);
    // The gate covers the experts the API may pay: scored positive and not copies (issue 16). copy04 commits
    // spec04's model from a later uid: the market does not serve it (issue 15), so it is never in the gate.
    const inGate = new Set(gate.params.expertUids);
    for (const id of ["spec04", "spec59", "top-even", "right-1479", "weak-generalist"])
      expect(inGate.has(uidOf.get(id) ?? -1), id).toBe(true);
    for (const id of ["copy04", "adversarial"]) expect(inGate.has(uidOf.get(id) ?? -1), id).toBe(false);

    // Hidden rows the validator did not train on this epoch.
    const trained = new Set(
      digitValidationSource(sources.digitData, sources.digitSplit.hidden)
        .sample(64, seedToUint32(epochSeed(DEMO_SEED_SECRET, market.chain.netuid, report.epoch, "digits")))
        .map((item) => item.id),
    );
    const rows = sources.digitSplit.hidden.filter((row) => !trained.has(`digits-${row}`)).slice(0, EVAL_ROWS);
    evalSet = { rows, labels: rows.map((row) => sources.digitData.labels[row] ?? -1) };
    await answerAll(await market.experts());

    const accuracyOf = (probs: (i: number) => readonly number[]) =>
      evalSet.rows.filter((_, i) => argmax(probs(i)) === evalSet.labels[i]).length / evalSet.rows.length;
    const allDigit = [...outputs.values()];
    const plainAverage = accuracyOf((i) =>
      Array.from({ length: DIGIT_CLASSES }, (_, c) => allDigit.reduce((s, o) => s + (o[i]?.probs[c] ?? 0), 0)),
    );
    const solo = Object.fromEntries(
      [...outputs].map(([id, o]) => [id, Math.round(accuracyOf((i) => o[i]?.probs ?? []) * 1000) / 1000]),
    );
    const routed = await routeAll();
    const untrained = await routeAll(false);
    console.log(
      JSON.stringify({
        routedTop2: routed.accuracy,
        untrainedTop2: untrained.accuracy,
        plainAverage,
        solo,
        picks: Object.fromEntries(routed.picks),
        rows: evalSet.rows.length,
      }),
    );
    // The validator's retrained gate (another seed, plus this epoch's hidden items) lands within about half a point
    // of the build gate's 0.9525 on these rows (measured 0.9475).
    expect(routed.accuracy).toBeGreaterThanOrEqual(0.94);
    // The plain average of all experts carries the adversary and the noise; the gate also beats routing by the
    // validator's prior alone.
    expect(routed.accuracy).toBeGreaterThan(plainAverage);
    expect(routed.accuracy).toBeGreaterThan(untrained.accuracy);
    // Every expert has a trained logit now, so exploration no longer sends paid queries to any of them.
    expect(routed.picks.get("adversarial") ?? 0).toBe(0);
    expect(routed.picks.get("noise") ?? 0).toBe(0);

    // The real API routes the same way.
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "router", credits: 100_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const bad = new Set([uidOf.get("adversarial"), uidOf.get("noise")]);
    for (const row of evalSet.rows.slice(0, 5)) {
      const answer = await client.infer(
        "digits",
        { pixels: digitRow(sources.digitData, row) },
        { k: 2, waitSeconds: 20 },
      );
      if (!answer.ok) throw new Error(JSON.stringify(answer.problem));
      const experts = (answer.data as { experts: { uid: number }[] }).experts;
      expect(experts).toHaveLength(2);
      for (const e of experts) expect(bad.has(e.uid)).toBe(false);
    }
  });

  it("a genuinely new good expert added at run time gets traffic within two epochs", async () => {
    // Another generalist: its own initial weights, rows and width, so its answers differ from every expert's.
    const recipe: Extract<DigitExpertRecipe, { kind: "train" }> = {
      kind: "train",
      id: NEW_EXPERT,
      description: "generalist of a newcomer",
      sizes: [DIGIT_PIXELS, 48, DIGIT_CLASSES],
      rows: (split) => split.expertTrain.slice(1000, 5000),
      target: (d) => d,
      sees: () => true,
      epochs: 3,
      batchSize: 32,
      learningRate: 0.003,
    };
    const model = makeDigitExpertModel(recipe, sources.digitData, sources.digitSplit, 7);
    const file = join(dataDir, `${NEW_EXPERT}-upload.onnx`);
    await writeFile(file, mlpToOnnx(model, { metadata: { expert: NEW_EXPERT, task: "digits" } }));
    const manifest = await addExpert({ dataDir, task: "digits", modelPath: file, id: NEW_EXPERT });

    // The stack registers it on the devnet within ~2 s; the workers pick the model up from the same folder.
    for (let wait = 0; wait < 100 && (uidOf.get(NEW_EXPERT) ?? -1) < 0; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await refreshUids();
    }
    const uid = uidOf.get(NEW_EXPERT) ?? -1;
    expect(uid).toBeGreaterThanOrEqual(0);
    // The market serves what its directory says, rebuilt from the chain about once a second: wait until it lists it.
    for (let wait = 0; wait < 100; wait++) {
      const listed = (await (await fetch(`${market.url}/v1/experts`)).json()) as { experts: { uid: number }[] };
      if (listed.experts.some((e) => e.uid === uid)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await Promise.all(market.workers.inProcess.map((w) => w.reload()));
    await answerAll([manifest]);

    const epochs = [];
    let picks = 0;
    for (let e = 0; e < 2 && picks === 0; e++) {
      const report = await runEpoch();
      const row = report.scores.find((s) => s.task === "digits")?.rows.find((r) => r.uid === uid);
      const routed = await routeAll();
      picks = routed.picks.get(NEW_EXPERT) ?? 0;
      epochs.push({ epoch: report.epoch, shapley: row?.shapley, accuracy: routed.accuracy, picks });
    }
    console.log(JSON.stringify({ newExpert: NEW_EXPERT, uid, epochs }));
    const gate = parseStoredGate((await market.dataPlane.scores.latestRouter("digits"))?.params);
    expect(gate.ok && gate.params.expertUids.includes(uid)).toBe(true);
    expect(picks).toBeGreaterThan(0);
    // The newcomer answers the whole router split (2,000 digits) through the queue before the gate knows it.
  }, 300_000);
});

/**
 * Market quality (issue 16): the answer a client pays for, through the real API of a fresh market (ephemeral
 * stack: emulated tables and queue, devnet, in-process workers), on hidden items, against the best single expert and
 * the plain average of every expert of the task on the same items, measured in the same run from the same ONNX files
 * the workers serve. Routed at k = 1, 2, 3 right after the API opens (the gate built by `npm run experts`), then
 * again after three validator epochs. Also records which experts were paid in the fresh phase. Last line: JSON.
 *
 *   node --import tsx bench/quality.ts          (BENCH_DIGITS=200, BENCH_CLIPS=24)
 */
import { silentLogger } from "../adapters/log/logger.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { loadValidationSources } from "../adapters/runtime/validation-sources.ts";
import { createMarketClient } from "../client/client.ts";
import { createRouter, parseStoredGate } from "../core/routing/index.ts";
import { digitRow } from "../core/tasks/digits-data.ts";
import { argmax, frameQuality } from "../core/tasks/metrics.ts";
import { decodePcm16 } from "../core/tasks/pcm16.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "../core/tasks/prng.ts";
import type { ValidationItem as Item } from "../core/tasks/validation.ts";

type ValidationItem = Item<unknown, unknown>;

import { expertDirectory } from "../functions/market/directory.ts";
import { payable } from "../functions/market/router.ts";
import { startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

const DIGITS = Number(process.env.BENCH_DIGITS ?? 200);
const CLIPS = Number(process.env.BENCH_CLIPS ?? 24);
const TEMPO = 10;
const CONCURRENCY = 8;

type Scorer = (output: unknown, item: ValidationItem) => number;
const digitScore: Scorer = (output, item) =>
  argmax((output as { probs: number[] }).probs) === (item.label as number) ? 1 : 0;
const speechScore: Scorer = (output, item) =>
  frameQuality((output as { frameProbs: number[] }).frameProbs, item.label as number[]).accuracy;

const round = (x: number) => Math.round(x * 10000) / 10000;

async function main(): Promise<void> {
  const market = await startEphemeralMarket({
    log: silentLogger,
    env: { MARKET_TEMPO: String(TEMPO), MARKET_VALIDATION_ITEMS: "64" },
  });
  try {
    const health = await fetch(`${market.url}/health`);
    if (!health.ok) throw new Error(`health ${health.status}`);
    const sources = await loadValidationSources();
    // Hidden digits, a seeded sample; speech: hidden clips as the validator draws them (random window and SNR).
    const order = shuffledIndices(sources.digitSplit.hidden.length, mulberry32(deriveSeed(16, "bench-quality")));
    const digitItems: ValidationItem[] = order.slice(0, DIGITS).map((k) => {
      const row = sources.digitSplit.hidden[k] ?? 0;
      return {
        id: `digits-${row}`,
        input: digitRow(sources.digitData, row),
        label: sources.digitData.labels[row] ?? 0,
      };
    });
    const speechItems = sources.speech.sample(CLIPS, deriveSeed(16, "bench-quality-speech")) as ValidationItem[];

    // Baselines from the served ONNX files: each expert alone and the plain average of all of a task's experts.
    const manifests = await market.experts();
    const metagraphNow = await market.chain.chain.metagraph(market.chain.netuid);
    const runtime = createOnnxRuntime({ preferCuda: false, log: () => {} });
    const baselines: Record<string, unknown> = {};
    const digitOutputs = new Map<number, number[][]>();
    for (const [task, items, score, field] of [
      ["digits", digitItems, digitScore, "probs"],
      ["speech", speechItems, speechScore, "frameProbs"],
    ] as const) {
      const solo: Record<string, number> = {};
      const outs: unknown[][] = [];
      for (const m of manifests.filter((x) => x.task === task)) {
        const model = await runtime.load(m);
        const o = await model.runBatch(items.map((i) => i.input));
        await model.close();
        outs.push(o);
        if (task === "digits")
          digitOutputs.set(
            metagraphNow.hotkeys.indexOf(m.hotkey),
            o.map((x) => (x as { probs: number[] }).probs),
          );
        solo[m.id] = round(items.reduce((s, item, i) => s + score(o[i], item), 0) / items.length);
      }
      const average = items.reduce((s, item, i) => {
        const vecs = outs.map((o) => (o[i] as Record<string, number[]>)[field] ?? []);
        const mean = (vecs[0] ?? []).map((_, c) => vecs.reduce((a, v) => a + (v[c] ?? 0), 0) / vecs.length);
        return s + score({ [field]: mean }, item);
      }, 0);
      const best = Object.entries(solo).sort((a, b) => b[1] - a[1])[0];
      baselines[task] = { bestSingle: best, plainAverage: round(average / items.length), solo };
    }

    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({
      name: "bench-quality",
      credits: 1_000_000_000,
      rateLimit: { perMinute: 1_000_000, burst: 100_000 },
    });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const metagraph = await market.chain.chain.metagraph(market.chain.netuid);
    const idOf = new Map(manifests.map((m) => [metagraph.hotkeys.indexOf(m.hotkey), m.id]));

    const routed = async (task: string, items: readonly ValidationItem[], score: Scorer, k: number) => {
      const paid = new Map<string, number>();
      let total = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < items.length) {
            const item = items[next++] as ValidationItem;
            const input =
              task === "digits"
                ? { pixels: item.input }
                : { samples: Array.from(decodePcm16((item.input as { pcm16: string }).pcm16)) };
            const answer = await client.infer(task, input, { k, waitSeconds: 60 });
            if (!answer.ok) throw new Error(JSON.stringify(answer.problem));
            const data = answer.data as { output: unknown; experts: { uid: number }[] };
            for (const e of data.experts) paid.set(idOf.get(e.uid) ?? "?", (paid.get(idOf.get(e.uid) ?? "?") ?? 0) + 1);
            total += score(data.output, item);
          }
        }),
      );
      return { accuracy: round(total / items.length), paid: Object.fromEntries(paid) };
    };
    const phase = async () => {
      const out: Record<string, unknown> = {};
      for (const k of [1, 2, 3]) {
        out[`digits_k${k}`] = await routed("digits", digitItems, digitScore, k);
        out[`speech_k${k}`] = await routed("speech", speechItems, speechScore, k);
      }
      return out;
    };

    /**
     * Which combination helps: the stored gate's top-k over the payable experts (as the API routes), combined with
     * the gate's softmax weights, a plain average, or weights times each answer's confidence (its largest
     * probability, squared), scored on the same digits from the experts' ONNX answers.
     */
    const combinations = async () => {
      const stored = await market.dataPlane.scores.latestRouter("digits");
      const gate = parseStoredGate(stored?.params);
      if (!gate.ok) return null;
      const experts = await expertDirectory({
        chain: market.chain.chain,
        netuid: market.chain.netuid,
        scores: market.dataPlane.scores,
        manifests: market.experts,
        validatorHotkey: market.chain.validator.address,
      }).experts("digits");
      const scores = await market.dataPlane.scores.latestScores("digits");
      const candidates = payable(experts, gate.params, scores).map((e) => e.uid);
      const router = createRouter({
        params: gate.params,
        candidates,
        options: { explorationWeight: 0, epsilon: 0 },
      });
      const out: Record<string, number> = {};
      for (const k of [1, 2, 3]) {
        const right = { gate: 0, plain: 0, confidence: 0 };
        digitItems.forEach((item, i) => {
          const routedNow = router.route(item.input as number[], k);
          for (const mode of ["gate", "plain", "confidence"] as const) {
            const mix = new Array<number>(10).fill(0);
            routedNow.uids.forEach((uid, j) => {
              const p = digitOutputs.get(uid)?.[i] ?? [];
              const w = mode === "gate" ? (routedNow.gates[j] ?? 0) : mode === "plain" ? 1 : Math.max(...p) ** 2;
              p.forEach((v, c) => {
                mix[c] = (mix[c] ?? 0) + w * v;
              });
            });
            if (argmax(mix) === item.label) right[mode]++;
          }
        });
        for (const mode of ["gate", "plain", "confidence"] as const)
          out[`k${k}_${mode}`] = round(right[mode] / digitItems.length);
      }
      return out;
    };
    const combinationsFresh = await combinations();

    const t0 = performance.now();
    const fresh = await phase();
    const freshSeconds = round((performance.now() - t0) / 1000);
    for (let e = 0; e < 3; e++) {
      await market.runValidatorEpoch();
      market.chain.devnet?.advance(TEMPO);
    }
    const trained = await phase();
    for (const [name, figures] of [
      ["fresh", fresh],
      ["after 3 epochs", trained],
    ] as const) {
      process.stdout.write(`${name}:\n`);
      for (const [key, value] of Object.entries(figures)) process.stdout.write(`  ${key} ${JSON.stringify(value)}\n`);
    }
    const combinationsTrained = await combinations();
    process.stdout.write(`baselines ${JSON.stringify(baselines)}\n`);
    process.stdout.write(`combinations fresh ${JSON.stringify(combinationsFresh)}\n`);
    process.stdout.write(`combinations after 3 epochs ${JSON.stringify(combinationsTrained)}\n`);
    process.stdout.write(
      `${JSON.stringify({ digits: DIGITS, clips: CLIPS, freshSeconds, fresh: strip(fresh), trained: strip(trained), baselines })}\n`,
    );
  } finally {
    await market.stop();
  }
}

/** Accuracy only, for the last line. */
function strip(figures: Record<string, unknown>): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, (v as { accuracy: number }).accuracy]));
}

await main();

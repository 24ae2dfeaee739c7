/**
 * `npm run experts` (re)builds the digit experts into `${MARKET_DATA_DIR:-.data}/experts` and writes the speech
 * manifests there; `npm run experts -- --report` prints every expert's solo quality on the hidden sets.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import {
  buildDigitExperts,
  DEFAULT_EXPERT_SEED,
  DIGIT_BUILD_STAMP,
  type DigitBuildProgress,
  digitBuildState,
  repairDigitExperts,
} from "../adapters/runtime/digit-experts-builder.ts";
import { listManifests } from "../adapters/runtime/manifest-store.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { soloQuality } from "../adapters/runtime/solo-quality.ts";
import { writeSpeechManifests } from "../adapters/runtime/speech-experts-builder.ts";
import { loadSpeechRecording } from "../adapters/runtime/speech-validation.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import { digitValidationSource, splitDigits } from "../core/tasks/digits-data.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { speechWindows } from "../core/tasks/speech-data.ts";

/** `${dataDir}/experts`: the one directory that holds every expert's manifest (and our own .onnx files). */
export function expertsDir(dataDir: string): string {
  return join(dataDir, "experts");
}

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(z.string().min(1).catch(".data").parse(env.MARKET_DATA_DIR));
}

const BuildStamp = z.object({ version: z.number(), seed: z.number(), experts: z.record(z.string(), z.string()) });

/**
 * True when the digit experts on disk were built by this recipe version and seed, their model files and manifests
 * intact and the gate beside them readable.
 */
export async function digitExpertsFresh(dir: string): Promise<boolean> {
  const state = await digitBuildState(dir, DEFAULT_EXPERT_SEED);
  return state !== null && state.staleModels.length === 0 && state.staleManifests.length === 0;
}

/**
 * Builds the digit experts only when missing or stale (only the broken ones when the rest of a build is intact),
 * refreshes the speech manifests, and returns every valid manifest in the experts directory (user-added experts
 * included). The local stack calls this at boot.
 */
export async function ensureExperts(dataDir: string, log: (msg: string) => void): Promise<ExpertManifest[]> {
  const dir = expertsDir(dataDir);
  if (!(await digitExpertsFresh(dir))) {
    const repaired = await repairDigitExperts({ outDir: dir, seed: DEFAULT_EXPERT_SEED });
    if (repaired) {
      if (repaired.length > 0) log(`experts: rebuilding ${repaired.join(", ")} (missing or changed) in ${dir}`);
    } else {
      log(`experts: building digit experts into ${dir}`);
      await buildDigitExperts({ outDir: dir, seed: DEFAULT_EXPERT_SEED });
    }
  }
  await writeSpeechManifests({ outDir: dir });
  const listing = await listManifests(dir);
  for (const r of listing.rejected) log(`experts: skipped ${r.file}: ${r.reason}`);
  return listing.manifests;
}

function progressPrinter(out: NodeJS.WriteStream): (p: DigitBuildProgress) => void {
  return (p) => {
    const bar = `${"#".repeat(p.index - (p.phase === "done" ? 0 : 1))}${".".repeat(p.total - p.index + (p.phase === "done" ? 0 : 1))}`;
    const line = `[${bar}] ${p.index}/${p.total} ${p.id}: ${p.phase}`;
    if (out.isTTY) out.write(`\r${line.padEnd(60)}${p.phase === "done" && p.index === p.total ? "\n" : ""}`);
    else if (p.phase === "done") out.write(`${line}\n`);
  };
}

/** Solo quality of every expert on the hidden sets, as printable lines. */
export async function expertReport(dataDir: string): Promise<string[]> {
  const dir = expertsDir(dataDir);
  const { manifests } = await listManifests(dir);
  const registry = createTaskRegistry(mediaDecoders);
  const runtime = createOnnxRuntime({ log: () => {} });
  const lines: string[] = [];
  const digits = registry.get("digits");
  const speech = registry.get("speech");
  const digitExperts = manifests.filter((m) => m.task === "digits");
  if (digits && digitExperts.length > 0) {
    const data = await loadMnist();
    const stamp = BuildStamp.safeParse(
      JSON.parse(await readFile(join(dir, DIGIT_BUILD_STAMP), "utf8").catch(() => "{}")),
    );
    const split = splitDigits(data.labels.length, stamp.success ? stamp.data.seed : DEFAULT_EXPERT_SEED);
    const items = digitValidationSource(data, split.hidden).sample(split.hidden.length, 0);
    lines.push(`digits: ${items.length} hidden validation digits (chance accuracy 0.100, uniform Brier 0.900)`);
    lines.push(`  ${"expert".padEnd(18)}${"accuracy".padStart(10)}${"brier".padStart(10)}`);
    for (const m of digitExperts)
      lines.push(await reportLine(m, async (model) => [await soloQuality(digits, model, items)]));
  }
  const vadExperts = manifests.filter((m) => m.task === "speech");
  if (speech && vadExperts.length > 0) {
    const rec = await loadSpeechRecording();
    const conditions = [null, 10, 0] as const;
    const sets = conditions.map((snr) => speechWindows(rec, snr, DEFAULT_EXPERT_SEED));
    lines.push(`speech: ${sets[0]?.length ?? 0} clips of 5 s; frame accuracy / Brier at clean, 10 dB, 0 dB SNR`);
    lines.push(
      `  ${"expert".padEnd(18)}${conditions.map((c) => (c === null ? "clean" : `${c} dB`).padStart(16)).join("")}`,
    );
    for (const m of vadExperts)
      lines.push(await reportLine(m, (model) => Promise.all(sets.map((items) => soloQuality(speech, model, items)))));
  }
  return lines;

  async function reportLine(
    m: ExpertManifest,
    measure: (model: Awaited<ReturnType<typeof runtime.load>>) => Promise<{ accuracy: number; brier: number }[]>,
  ): Promise<string> {
    try {
      const model = await runtime.load(m);
      try {
        const qs = await measure(model);
        const cells = qs.map((q) =>
          qs.length === 1
            ? `${q.accuracy.toFixed(3).padStart(10)}${q.brier.toFixed(3).padStart(10)}`
            : `${q.accuracy.toFixed(3)} / ${q.brier.toFixed(3)}`.padStart(16),
        );
        return `  ${m.id.padEnd(18)}${cells.join("")}`;
      } finally {
        await model.close();
      }
    } catch (error) {
      return `  ${m.id.padEnd(18)}error: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const dataDir = dataDirFromEnv();
  if (argv.includes("--report")) {
    for (const line of await expertReport(dataDir)) process.stdout.write(`${line}\n`);
    return 0;
  }
  const dir = expertsDir(dataDir);
  const started = performance.now();
  const digits = await buildDigitExperts({
    outDir: dir,
    seed: DEFAULT_EXPERT_SEED,
    onProgress: progressPrinter(process.stdout),
  });
  const speech = await writeSpeechManifests({ outDir: dir });
  process.stdout.write(
    `built ${digits.length} digit experts and ${speech.length} speech manifests in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

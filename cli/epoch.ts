/**
 * `npm run -s epoch -- FILE.json`: runs the Yuma Consensus epochs of a scenario file (format of
 * shared/vectors/yuma-s1.json) and prints `{"outputs_per_epoch": [...]}`. Errors: one line on stderr, exit code 1.
 */
import { readFileSync } from "node:fs";
import { runScenarioText } from "../core/consensus/scenario.ts";

function main(argv: readonly string[]): number {
  const file = argv[0];
  if (file === undefined || argv.length !== 1) {
    process.stderr.write("usage: npm run -s epoch -- FILE.json\n");
    return 1;
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`cannot read ${file}${typeof code === "string" ? ` (${code})` : ""}\n`);
    return 1;
  }
  const result = runScenarioText(text);
  if (!result.ok) {
    process.stderr.write(`${result.error}\n`);
    return 1;
  }
  process.stdout.write(`${result.stdout}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));

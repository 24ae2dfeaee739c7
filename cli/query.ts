import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createMarketClient } from "../client/client.ts";
import { pngToDigitPixels } from "../client/png-digit.ts";

const USAGE = `usage: npm run market -- query <task> <file> [--k N] [--wait SECONDS | --async] [--idempotency-key K]
  digits: a 28x28 PNG; other tasks: a JSON file holding the task input
env: MARKET_URL, MARKET_API_KEY`;

/** Sends one paid query and prints the answer (or the job to poll). */
export async function run(args: string[]): Promise<number> {
  const url = process.env.MARKET_URL;
  const apiKey = process.env.MARKET_API_KEY;
  if (!url || !apiKey) {
    process.stderr.write(`MARKET_URL and MARKET_API_KEY must be set\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      k: { type: "string" },
      wait: { type: "string" },
      async: { type: "boolean" },
      "idempotency-key": { type: "string" },
    },
  });
  const [task, file] = positionals;
  if (!task || !file) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const bytes = await readFile(file);
  const input =
    task === "digits" && file.toLowerCase().endsWith(".png")
      ? { pixels: pngToDigitPixels(bytes) }
      : (JSON.parse(bytes.toString("utf8")) as unknown);
  const client = createMarketClient({ baseUrl: url, apiKey });
  const k = values.k === undefined ? undefined : Number.parseInt(values.k, 10);
  const waitSeconds = values.async ? 0 : values.wait === undefined ? undefined : Number.parseInt(values.wait, 10);
  const res = await client.infer(task, input, {
    ...(k !== undefined ? { k } : {}),
    ...(waitSeconds !== undefined ? { waitSeconds } : {}),
    ...(values["idempotency-key"] ? { idempotencyKey: values["idempotency-key"] } : {}),
  });
  if (!res.ok) {
    process.stderr.write(`${JSON.stringify(res.problem, null, 2)}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(res.data, null, 2)}\n`);
  return 0;
}

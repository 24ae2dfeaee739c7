/**
 * `npm run -s market -- chain encode-set-weights --netuid N --uids a,b,c --weights x,y,z --version-key V`
 * prints the SCALE-encoded SubtensorModule.set_weights call (0x...) as a mainnet node decodes it.
 */
import { u8aToHex } from "@polkadot/util";
import { z } from "zod";
import { encodeSetWeightsCall } from "../adapters/chain/subtensor/encode.ts";

const u16 = z.coerce.number().int().min(0).max(65535);
const u16List = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$|^$/, "expected comma-separated integers")
  .transform((s) => (s.trim() === "" ? [] : s.split(",").map((x) => Number(x.trim()))))
  .pipe(z.array(z.number().int().min(0).max(65535)));

const flagsSchema = z
  .object({
    netuid: u16,
    uids: u16List,
    weights: u16List,
    "version-key": z
      .string()
      .regex(/^\d+$/, "expected a non-negative integer")
      .transform((s) => BigInt(s))
      .refine((v) => v < 1n << 64n, "must fit in u64"),
  })
  .strict()
  .refine((f) => f.uids.length === f.weights.length, { message: "--uids and --weights need the same length" });

const USAGE =
  "usage: npm run -s market -- chain encode-set-weights --netuid N --uids a,b,c --weights x,y,z --version-key V\n";

/** `--name value` pairs; a flag without a value or a stray word is an error. */
function parseFlags(args: readonly string[]): Record<string, string> | string {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i];
    const value = args[i + 1];
    if (name === undefined || !name.startsWith("--")) return `unexpected argument: ${name ?? ""}`;
    if (value === undefined) return `missing value for ${name}`;
    flags[name.slice(2)] = value;
  }
  return flags;
}

export async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (typeof flags === "string") {
    process.stderr.write(`${flags}\n${USAGE}`);
    return 2;
  }
  const parsed = flagsSchema.safeParse(flags);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `--${issue.path.join(".")}: ` : "";
    process.stderr.write(`${where}${issue?.message ?? "invalid flags"}\n${USAGE}`);
    return 2;
  }
  const { netuid, uids, weights } = parsed.data;
  const call = encodeSetWeightsCall({ netuid, uids, weights, versionKey: parsed.data["version-key"] });
  process.stdout.write(`${u8aToHex(call)}\n`);
  return 0;
}

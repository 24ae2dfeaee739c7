import { readFile, stat } from "node:fs/promises";
import { Command } from "commander";
import { identityReady, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import type { Schemas } from "../client/client.ts";
import { parseReceiptJson, verifyReceipt } from "../core/receipts/receipt.ts";
import { printResult } from "./output.ts";
import {
  type CliIo,
  type ConnectionFlags,
  connect,
  ExitWith,
  report,
  SettingError,
  withConnection,
} from "./settings.ts";

/** A receipt file is a few kilobytes; an answer holding one may carry the task output too. */
const MAX_RECEIPT_FILE = 4 * 1024 * 1024;

interface VerifyFlags extends ConnectionFlags {
  readonly local?: boolean;
  readonly gateway?: string;
}

/** `market receipts verify <file>`: checks a receipt's gateway signature (and output digest), here or via the API. */
export function receiptsCommand(io: CliIo): Command {
  const receipts = new Command("receipts").description("check the signed receipts the market returns with answers");
  withConnection(
    receipts
      .command("verify")
      .description("verify a receipt: a file holding the receipt, or a query's answer (receipt and output)")
      .argument("<file>", "JSON: a receipt, or an answer with `receipt` and `output`"),
    "none",
  )
    .option("--local", "verify here (sr25519), without asking the API")
    .option("--gateway <address>", "with --local: the gateway address that must have signed")
    .action(async (file: string, o: VerifyFlags) => {
      const { receipt, output } = await readReceiptFile(file);
      if (o.local) {
        await identityReady();
        const check = verifyReceipt(sr25519Verifier, receipt, {
          ...(o.gateway ? { expectedSigner: o.gateway } : {}),
          ...(output !== undefined ? { output } : {}),
        });
        const signedBy = (receipt as { signedBy?: unknown } | null)?.signedBy;
        // Without --gateway a receipt signed by any key checks out: say so rather than let "valid" imply the market.
        const signer = o.gateway
          ? "checked against --gateway"
          : "not checked (pass --gateway <the market's gateway address>)";
        const verdict = check.ok
          ? { valid: true, signedBy, signer }
          : { valid: false, reason: check.reason, signedBy, signer };
        printResult(io.out, o, verdict);
        if (!check.ok) throw new ExitWith(1);
        return;
      }
      if (o.gateway) throw new SettingError("--gateway goes with --local (the API checks its own gateway key)");
      const res = await connect(io, o, "none").verifyReceipt(receipt as Schemas["VerifyReceipt"]["receipt"], output);
      report(io, o, res);
      if (res.ok && !res.data.valid) throw new ExitWith(1);
    });
  return receipts;
}

async function readReceiptFile(path: string): Promise<{ receipt: unknown; output: unknown }> {
  if ((await stat(path)).size > MAX_RECEIPT_FILE) throw new SettingError(`${path} is over ${MAX_RECEIPT_FILE} bytes`);
  const parsed = parseReceiptJson(await readFile(path, "utf8"));
  if (!parsed.ok) throw new SettingError(`${path}: ${parsed.reason}`);
  const doc = parsed.value as Record<string, unknown> | null;
  if (doc && typeof doc === "object" && "receipt" in doc) return { receipt: doc.receipt, output: doc.output };
  return { receipt: doc, output: undefined };
}

import { spawn } from "node:child_process";
import { join } from "node:path";
import type { ModelContract } from "../../core/tasks/task.ts";
import { REPO_ROOT } from "./paths.ts";

export type ContractCheck = { readonly ok: true } | { readonly ok: false; readonly detail: string };

/** Loads a model in a child process (load only, no inference) and checks its tensors against `contract`. */
export type ModelChecker = (bytes: Uint8Array, contract: ModelContract) => Promise<ContractCheck>;

/**
 * The child runs `contract-check-child.ts` with an empty environment but PATH (no secret of the market reaches a
 * process that parses a miner's file), a time limit and a bounded answer. A crash, a stall or a garbled answer is
 * reported as a model that does not load.
 */
export function childModelChecker(opts: { timeoutMs?: number } = {}): ModelChecker {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return (bytes, contract) =>
    new Promise<ContractCheck>((resolve) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(REPO_ROOT, "adapters/runtime/contract-check-child.ts"), JSON.stringify(contract)],
        { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? "" }, stdio: ["pipe", "pipe", "ignore"] },
      );
      let out = "";
      let settled = false;
      const done = (result: ContractCheck) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        done({ ok: false, detail: `the model did not load within ${timeoutMs} ms` });
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => {
        if (out.length < 10_000) out += chunk.toString("utf8");
      });
      child.on("error", () => done({ ok: false, detail: "the model check could not run" }));
      child.on("close", () => {
        try {
          const parsed = JSON.parse(out.trim()) as ContractCheck;
          if (parsed.ok === true) return done({ ok: true });
          if (parsed.ok === false && typeof parsed.detail === "string")
            return done({ ok: false, detail: parsed.detail.slice(0, 500) });
        } catch {
          // fall through
        }
        done({ ok: false, detail: "the model crashed the loader" });
      });
      child.stdin.on("error", () => {});
      child.stdin.end(Buffer.from(bytes));
    });
}

import type { Command } from "commander";
import { type ApiResult, createMarketClient, type MarketClient } from "../client/client.ts";
import { printResult } from "./output.ts";

/** Where a client command reads its settings and writes its output (the process, or a test's sinks). */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** How the client reaches the API (tests may pass an in-process app). */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface ConnectionFlags {
  readonly url?: string;
  readonly apiKey?: string;
  readonly adminToken?: string;
  readonly json?: boolean;
  readonly field?: string;
}

export class SettingError extends Error {
  override readonly name = "SettingError";
}

type Credential = "apiKey" | "adminToken" | "none";

/**
 * Adds --url, --json and the credential flag a command needs. Values are read when the command runs, never at
 * parse time, so `--help` works with no environment.
 */
export function withConnection(cmd: Command, credential: Credential): Command {
  cmd.option("--url <url>", "the market API (env MARKET_API_URL, else MARKET_URL; default http://127.0.0.1:8787)");
  if (credential === "apiKey") cmd.option("--api-key <secret>", "the API key to send (env MARKET_API_KEY)");
  if (credential === "adminToken") cmd.option("--admin-token <token>", "the operator token (env MARKET_ADMIN_TOKEN)");
  return cmd
    .option("--json", "print JSON instead of a table")
    .option("--field <name>", "print only this top-level field of the answer (e.g. key, id, status)");
}

export function connect(io: CliIo, flags: ConnectionFlags, credential: Credential): MarketClient {
  const url = flags.url ?? io.env.MARKET_API_URL ?? io.env.MARKET_URL ?? "http://127.0.0.1:8787";
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new SettingError(`--url must be an http(s) URL, got "${url}"`);
  const apiKey = flags.apiKey ?? io.env.MARKET_API_KEY;
  const adminToken = flags.adminToken ?? io.env.MARKET_ADMIN_TOKEN;
  if (credential === "apiKey" && !apiKey) throw new SettingError("set --api-key or MARKET_API_KEY");
  if (credential === "adminToken" && !adminToken) throw new SettingError("set --admin-token or MARKET_ADMIN_TOKEN");
  return createMarketClient({
    baseUrl: url,
    ...(credential === "apiKey" && apiKey ? { apiKey } : {}),
    ...(credential === "adminToken" && adminToken ? { adminToken } : {}),
    ...(io.fetch ? { fetch: io.fetch } : {}),
  });
}

/** Prints a result and turns a problem into a failed command (exit code 1), with the problem on stderr. */
export function report<T>(io: CliIo, flags: ConnectionFlags, result: ApiResult<T>, table?: (data: T) => unknown) {
  if (!result.ok) throw new ProblemError(result.problem);
  printResult(io.out, flags, result.data, table ? table(result.data) : result.data);
}

export class ProblemError extends Error {
  override readonly name = "ProblemError";
  constructor(readonly problem: { status: number; code: string; detail: string; title: string }) {
    super(`${problem.status} ${problem.code}: ${problem.detail || problem.title}`);
  }
}

/** A positive integer flag, bounded. */
export function intFlag(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new SettingError(`${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}

/** Ends a command with this exit code after it printed its result (a job that failed, an invalid receipt). */
export class ExitWith extends Error {
  override readonly name = "ExitWith";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/**
 * JSON-lines logger: one object per line {time, level, component, msg, ...fields}. When the stream is a terminal
 * the same record is printed as one readable line instead. Fields named like secrets are redacted, because a log
 * line is the easiest way for a mnemonic or an API key to leak.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(mnemonic|secret|token|password|apikey|api_key|authorization|^key$)/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string, fields?: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly component?: string;
  readonly fields?: Record<string, unknown>;
  readonly write?: (line: string) => void;
  /** Pretty lines instead of JSON; defaults to whether stdout is a TTY. */
  readonly pretty?: boolean;
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELD.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message };
    else if (typeof v === "bigint") out[k] = v.toString();
    else out[k] = v;
  }
  return out;
}

const COLORS: Record<LogLevel, string> = { debug: "\x1b[90m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };

function prettyLine(record: Record<string, unknown>, level: LogLevel): string {
  const { time, level: _l, component, msg, ...rest } = record;
  const clock = typeof time === "string" ? time.slice(11, 23) : "";
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${clock} ${COLORS[level]}${level.padEnd(5)}\x1b[0m ${String(component ?? "")} ${String(msg)}${extras ? ` \x1b[90m${extras}\x1b[0m` : ""}`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const pretty = options.pretty ?? (options.write === undefined && process.stdout.isTTY === true);
  const base = { component: options.component ?? "market", ...(options.fields ?? {}) };
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    const record = { time: new Date().toISOString(), level, ...redact(base), msg, ...redact(fields ?? {}) };
    try {
      write(pretty ? prettyLine(record, level) : JSON.stringify(record));
    } catch {
      // A closed stdout (e.g. the parent exited) must not crash the process over a log line.
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (component, fields) =>
      createLogger({ ...options, pretty, component, fields: { ...(options.fields ?? {}), ...(fields ?? {}) } }),
  };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createLogger({ write: () => {}, pretty: false });

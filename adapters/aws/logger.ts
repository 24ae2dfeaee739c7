/** How adapters report what they survive (corrupt items, unsupported emulator features) without crashing. */
export type AdapterLogger = (message: string, fields?: Readonly<Record<string, unknown>>) => void;

/** Default: one JSON line on stderr. Fields never carry secrets: adapters only pass ids, names and error codes. */
export const stderrLogger: AdapterLogger = (message, fields) => {
  process.stderr.write(`${JSON.stringify({ level: "warn", message, ...fields })}\n`);
};

/** Name and message of anything thrown, for log fields. */
export function errorFields(error: unknown): { readonly error: string; readonly detail: string } {
  if (error instanceof Error) return { error: error.name, detail: error.message };
  return { error: "unknown", detail: String(error) };
}

/**
 * Human output: an array of flat records becomes a table, an object becomes `key  value` lines (nested values as
 * compact JSON). `--json` prints the API's own JSON unchanged, for scripts; `--field NAME` one top-level field
 * (for shell variables: `export MARKET_API_KEY=$(market keys create --name a --field key)`).
 */
export function printResult(
  out: (text: string) => void,
  flags: { readonly json?: boolean; readonly field?: string },
  data: unknown,
  view: unknown = data,
): void {
  if (flags.field !== undefined) {
    const value =
      data !== null && typeof data === "object" ? (data as Record<string, unknown>)[flags.field] : undefined;
    if (value === undefined) throw new Error(`the answer has no field "${flags.field}"`);
    out(`${typeof value === "string" ? value : JSON.stringify(value)}\n`);
    return;
  }
  out(flags.json ? `${JSON.stringify(data, null, 2)}\n` : `${render(view)}\n`);
}

export function render(value: unknown): string {
  if (Array.isArray(value)) return table(value);
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    const width = Math.max(0, ...entries.map(([k]) => k.length));
    return entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join("\n");
  }
  return cell(value);
}

function table(rows: unknown[]): string {
  if (rows.length === 0) return "(none)";
  const records = rows.map((r) =>
    r !== null && typeof r === "object" ? (r as Record<string, unknown>) : { value: r },
  );
  const columns = [...new Set(records.flatMap((r) => Object.keys(r).filter((k) => r[k] !== undefined)))];
  const cells = records.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(columns), ...cells.map(line)].join("\n");
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

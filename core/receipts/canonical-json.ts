/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, arrays in order, numbers as
 * JSON.stringify writes them (finite only). Two parties that hold the same value get the same bytes, which is what
 * a signature over a JSON value needs. Throws on values JSON cannot carry (undefined, NaN, functions, cycles).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonical JSON: non-finite number");
      return JSON.stringify(value);
    case "object": {
      if (seen.has(value)) throw new TypeError("canonical JSON: cycle");
      seen.add(value);
      const out = Array.isArray(value)
        ? (numberArray(value) ?? `[${value.map((v) => write(v, seen)).join(",")}]`)
        : `{${Object.keys(value)
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], seen)}`)
            .join(",")}}`;
      seen.delete(value);
      return out;
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode ${typeof value}`);
  }
}

/** A tensor (array of finite numbers) in one native call: the same text, element by element, much faster. */
function numberArray(value: readonly unknown[]): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
  }
  return JSON.stringify(value);
}

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
        ? (numberArray(value) ??
          `[${elements(value)
            .map((v) => write(v, seen))
            .join(",")}]`)
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

/** An array's elements; a hole (a sparse array) has no JSON form, so it is refused as `undefined` is. */
function elements(value: readonly unknown[]): readonly unknown[] {
  for (let i = 0; i < value.length; i++) if (!(i in value)) throw new TypeError("canonical JSON: array with a hole");
  return value;
}

/** A tensor (array of finite numbers) in one native call: the same text, element by element, much faster. */
function numberArray(value: readonly unknown[]): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
  }
  return JSON.stringify(value);
}

/** Characters JSON.stringify escapes in a string (quote, backslash, controls, lone surrogates: any surrogate here). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * canonicalJson(value) in pieces whose concatenation is that text, for hashing without building it: a long string
 * with nothing to escape (a speech job's base64 pcm16, ~200 KB) is passed through as it is, not copied by
 * JSON.stringify and then again by the concatenation (issue 17: half the cost of a speech input's digest). Pieces
 * split only between JSON tokens or around whole strings, so their UTF-8 bytes concatenate to the text's.
 */
export function canonicalJsonParts(value: unknown): string[] {
  const out: string[] = [];
  writeParts(value, new Set(), out);
  return out;
}

function writeParts(value: unknown, seen: Set<object>, out: string[]): void {
  if (typeof value === "string") {
    if (NEEDS_ESCAPE.test(value)) out.push(JSON.stringify(value));
    else out.push('"', value, '"');
    return;
  }
  if (value === null || typeof value !== "object") {
    out.push(write(value, seen));
    return;
  }
  if (seen.has(value)) throw new TypeError("canonical JSON: cycle");
  if (Array.isArray(value)) {
    const numbers = numberArray(value);
    if (numbers !== undefined) {
      out.push(numbers);
      return;
    }
    seen.add(value);
    out.push("[");
    elements(value).forEach((v, i) => {
      if (i > 0) out.push(",");
      writeParts(v, seen, out);
    });
    out.push("]");
  } else {
    seen.add(value);
    out.push("{");
    const record = value as Record<string, unknown>;
    Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .forEach((k, i) => {
        out.push(`${i > 0 ? "," : ""}${JSON.stringify(k)}:`);
        writeParts(record[k], seen, out);
      });
    out.push("}");
  }
  seen.delete(value);
}

/**
 * The client's own JSON text of a number array inside a request body, so that a job message can carry it as sent
 * instead of writing 784 (or 80,000) numbers again: JSON.stringify spends ~50 us on 784 varied doubles, as much
 * as the rest of the request, while the body text is already in memory (it is what was parsed).
 *
 * Sound because the text at that place parses to that array: the body was parsed from exactly this text (hono
 * caches it), the scan follows JSON.parse's rule that the last of duplicate keys wins, and the caller only uses it
 * for an array whose elements equal (Object.is) the job input's.
 *
 * Bounded: the client's text is used only when it is written as JSON.stringify would write numbers (no spaces, no
 * `E`, each number at most MAX_NUMBER_CHARS, the longest a JS number prints as); otherwise undefined and the caller
 * writes the numbers itself. Padding (0.000…01, 1e0000…0) could otherwise turn a normal query into a job message of
 * hundreds of KB: a message now carries at most MAX_NUMBER_CHARS + 1 bytes per number.
 */

/** "-0.0000012345678901234567": the longest text String(number) gives (25 characters). */
export const MAX_NUMBER_CHARS = 25;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** `text.slice` of the number array at `path` (object keys from the root), or undefined if it is not found. */
export function numberArraySource(text: string, path: readonly string[]): string | undefined {
  try {
    const span = numberArraySourceSpan(text, path);
    return span === undefined || !compactNumbers(text, span[0] + 1, span[1] - 1)
      ? undefined
      : text.slice(span[0], span[1]);
  } catch {
    return undefined; // not the shape expected: the caller writes the JSON itself
  }
}

type Span = readonly [start: number, end: number];

/** Whether text[start, end) is a comma list of number tokens in JSON.stringify's alphabet, each short enough. */
function compactNumbers(text: string, start: number, end: number): boolean {
  let token = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      token = 0;
      continue;
    }
    // 0-9 . - + e: what String(number) writes (it never writes spaces or a capital E).
    const allowed = (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65;
    if (!allowed || ++token > MAX_NUMBER_CHARS) return false;
  }
  return true;
}

interface Scan {
  /** Where the value at the rest of the path is, if it is there. */
  readonly found: Span | undefined;
  /** Index just past the value scanned. */
  readonly end: number;
}

function numberArraySourceSpan(text: string, path: readonly string[]): Span | undefined {
  return find(text, skipSpace(text, 0), path, 0).found;
}

/** Scans the value starting at `at` for the value at path[depth..]. */
function find(text: string, at: number, path: readonly string[], depth: number): Scan {
  const first = text.charCodeAt(at);
  if (depth === path.length) {
    if (first !== OPEN_ARRAY) return { found: undefined, end: valueEnd(text, at) };
    // A number array holds no brackets, quotes or nested values: its first `]` closes it. Anything else is
    // refused by the caller's check that the parsed value here is an array of numbers.
    const close = text.indexOf("]", at);
    if (close < 0) throw new SyntaxError("unterminated array");
    return { found: [at, close + 1], end: close + 1 };
  }
  if (first !== OPEN_OBJECT) return { found: undefined, end: valueEnd(text, at) };
  const key = path[depth];
  let found: Span | undefined;
  let i = skipSpace(text, at + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return { found, end: i + 1 };
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new SyntaxError("key expected");
    const keyEnd = stringEnd(text, i);
    const matches = key !== undefined && keyEquals(text, i, keyEnd, key);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) throw new SyntaxError("colon expected");
    i = skipSpace(text, i + 1);
    let end: number;
    if (matches) {
      // The last of duplicate keys wins, as in JSON.parse: a later match replaces an earlier one.
      const inner = find(text, i, path, depth + 1);
      found = inner.found;
      end = inner.end;
    } else {
      end = valueEnd(text, i);
    }
    i = skipSpace(text, end);
    const next = text.charCodeAt(i);
    if (next === CLOSE_OBJECT) return { found, end: i + 1 };
    if (next !== COMMA) throw new SyntaxError("comma expected");
    i = skipSpace(text, i + 1);
  }
}

function keyEquals(text: string, start: number, end: number, key: string): boolean {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes("\\") ? JSON.parse(text.slice(start, end)) === key : raw === key;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** Index just past the string literal starting at `at` (a quote). */
function stringEnd(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c)) throw new SyntaxError("unterminated string");
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i++;
  }
}

/** Index just past the value starting at `at` (the text is valid JSON: it was parsed). */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let i = at;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || c <= 0x20) return i;
      i++;
    }
  }
  let depth = 0;
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c)) throw new SyntaxError("unterminated value");
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
}

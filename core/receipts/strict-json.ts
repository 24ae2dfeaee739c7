/**
 * JSON.parse that refuses duplicate object keys. JSON.parse keeps the last of two equal keys, so a body such as
 * `{"cost":1,"cost":2000}` would show one value to a reader that scans the text and another to the verifier; a
 * signed document must have one meaning. Keys are compared after unescaping (`"co\u0073t"` is `"cost"`).
 */
export type StrictJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: "not_json" | "duplicate_key" | "too_deep"; readonly key?: string };

/**
 * Deepest nesting of arrays and objects accepted. The scan below recurses once per level: without a bound, a body of
 * `[` x 200,000 (which JSON.parse accepts) overflows the stack and the RangeError escapes the parser.
 */
export const MAX_JSON_DEPTH = 64;

export function parseStrictJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not_json" };
  }
  // The text is valid JSON from here on, so the scan below may assume it.
  const scan = new DuplicateScan(text).run();
  if (scan === TOO_DEEP) return { ok: false, reason: "too_deep" };
  return scan === undefined ? { ok: true, value } : { ok: false, reason: "duplicate_key", key: scan };
}

const TOO_DEEP = Symbol("too_deep");

class DuplicateScan {
  private at = 0;
  private depth = 0;
  constructor(private readonly text: string) {}

  run(): string | undefined | typeof TOO_DEEP {
    try {
      this.value();
      return undefined;
    } catch (error) {
      if (error instanceof DuplicateKey) return error.key;
      if (error instanceof TooDeep) return TOO_DEEP;
      throw error;
    }
  }

  private value(): void {
    this.space();
    const c = this.text[this.at];
    if (c === "{" || c === "[") {
      if (++this.depth > MAX_JSON_DEPTH) throw new TooDeep();
      if (c === "{") this.object();
      else this.array();
      this.depth--;
    } else if (c === '"') this.string();
    else this.scalar();
  }

  private object(): void {
    const keys = new Set<string>();
    this.at++;
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return;
    }
    for (;;) {
      this.space();
      const key = JSON.parse(this.string()) as string;
      if (keys.has(key)) throw new DuplicateKey(key);
      keys.add(key);
      this.space();
      this.at++; // ':'
      this.value();
      this.space();
      if (this.text[this.at++] === "}") return; // else ','
    }
  }

  private array(): void {
    this.at++;
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return;
    }
    for (;;) {
      this.value();
      this.space();
      if (this.text[this.at++] === "]") return; // else ','
    }
  }

  /** The string token at `at` (quotes included), leaving `at` past it. */
  private string(): string {
    const start = this.at;
    this.at++;
    for (;;) {
      const c = this.text[this.at];
      if (c === "\\") this.at += 2;
      else if (c === '"') {
        this.at++;
        return this.text.slice(start, this.at);
      } else this.at++;
    }
  }

  private scalar(): void {
    while (this.at < this.text.length && !",]} \t\n\r".includes(this.text[this.at] ?? "")) this.at++;
  }

  private space(): void {
    while (" \t\n\r".includes(this.text[this.at] ?? "x")) this.at++;
  }
}

class TooDeep extends Error {}

class DuplicateKey extends Error {
  constructor(readonly key: string) {
    super(`duplicate key ${JSON.stringify(key)}`);
  }
}

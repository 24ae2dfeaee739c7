/**
 * JSON.parse that refuses duplicate object keys. JSON.parse keeps the last of two equal keys, so a body such as
 * `{"cost":1,"cost":2000}` would show one value to a reader that scans the text and another to the verifier; a
 * signed document must have one meaning. Keys are compared after unescaping (`"co\u0073t"` is `"cost"`).
 */
export type StrictJson =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: "not_json" | "duplicate_key"; readonly key?: string };

export function parseStrictJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not_json" };
  }
  // The text is valid JSON from here on, so the scan below may assume it.
  const duplicate = new DuplicateScan(text).run();
  return duplicate === undefined ? { ok: true, value } : { ok: false, reason: "duplicate_key", key: duplicate };
}

class DuplicateScan {
  private at = 0;
  constructor(private readonly text: string) {}

  run(): string | undefined {
    try {
      this.value();
      return undefined;
    } catch (error) {
      if (error instanceof DuplicateKey) return error.key;
      throw error;
    }
  }

  private value(): void {
    this.space();
    const c = this.text[this.at];
    if (c === "{") this.object();
    else if (c === "[") this.array();
    else if (c === '"') this.string();
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

class DuplicateKey extends Error {
  constructor(readonly key: string) {
    super(`duplicate key ${JSON.stringify(key)}`);
  }
}

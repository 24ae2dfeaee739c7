import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, parseStrictJson } from "./strict-json.ts";

describe("parseStrictJson", () => {
  it("refuses duplicate keys and accepts ordinary documents", () => {
    expect(parseStrictJson('{"cost":1,"cost":2000}')).toEqual({ ok: false, reason: "duplicate_key", key: "cost" });
    expect(parseStrictJson('{"a":[1,{"b":2}],"c":"x"}')).toEqual({ ok: true, value: { a: [1, { b: 2 }], c: "x" } });
  });

  it("answers (never throws) on nesting JSON.parse accepts but the scan cannot recurse through", () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(parseStrictJson(deep)).toEqual({ ok: false, reason: "too_deep" });
    const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${"}".repeat(MAX_JSON_DEPTH + 1)}`;
    expect(parseStrictJson(objects)).toEqual({ ok: false, reason: "too_deep" });
    const fits = `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`;
    expect(parseStrictJson(fits).ok).toBe(true);
  });
});

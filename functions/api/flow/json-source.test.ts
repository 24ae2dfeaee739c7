import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_NUMBER_CHARS, numberArraySource } from "./json-source.ts";

/** What JSON.parse puts at `path`. */
function at(body: string, path: readonly string[]): unknown {
  let value: unknown = JSON.parse(body);
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return value;
}

describe("numberArraySource", () => {
  it("finds the text of the array JSON.parse puts at the path, whatever surrounds it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
        fc.constantFrom("", " ", "\n\t "),
        (numbers, before, after, space) => {
          const { pixels: _a, ...b } = before;
          const { pixels: _c, ...a } = after;
          const input = { ...b, pixels: numbers, ...a };
          const body = JSON.stringify({ k: 3, input, z: [1, { x: "]}" }] }, null, space);
          const text = numberArraySource(body, ["input", "pixels"]);
          // Found whenever the numbers are written as JSON.stringify writes them (compact), never otherwise.
          if (space === "") expect(text).toBeDefined();
          if (text !== undefined) expect(JSON.parse(text)).toStrictEqual(at(body, ["input", "pixels"]));
        },
      ),
    );
  });

  it("follows JSON.parse on duplicate keys, escaped keys and spellings of numbers", () => {
    const body = '{"input":{"pixels":[9,9]},"input":{"pi\\u0078els":[1,5e-1,-0,2e2],"pixels\\"":[7]}}';
    const text = numberArraySource(body, ["input", "pixels"]);
    expect(text).toBe("[1,5e-1,-0,2e2]");
    expect(JSON.parse(text ?? "null")).toStrictEqual(at(body, ["input", "pixels"]));
    const top = '{"input":[0.5,0.25], "input" : [1,2,3] }';
    expect(numberArraySource(top, ["input"])).toBe("[1,2,3]");
    expect(JSON.parse(numberArraySource(top, ["input"]) ?? "null")).toStrictEqual(at(top, ["input"]));
  });

  it("refuses padded or non-canonical spellings, so a message never carries the client's padding", () => {
    const padded = `0.${"0".repeat(100)}1`;
    expect(numberArraySource(`{"input":[${padded},1]}`, ["input"])).toBeUndefined();
    expect(numberArraySource(`{"input":[1e${"0".repeat(100)}]}`, ["input"])).toBeUndefined();
    expect(numberArraySource('{"input":[1, 2]}', ["input"])).toBeUndefined();
    expect(numberArraySource('{"input":[5E-1]}', ["input"])).toBeUndefined();
    const longest = "-0.0000012345678901234567";
    expect(longest).toHaveLength(MAX_NUMBER_CHARS);
    expect(String(-0.0000012345678901234567)).toBe(longest);
    expect(numberArraySource(`{"input":[${longest},1.7976931348623157e+308]}`, ["input"])).toBe(
      `[${longest},1.7976931348623157e+308]`,
    );
  });

  it("finds nothing where there is no array, and never throws", () => {
    expect(numberArraySource('{"input":{"pixels":"[1]"}}', ["input", "pixels"])).toBeUndefined();
    expect(numberArraySource('{"input":{}}', ["input", "pixels"])).toBeUndefined();
    expect(numberArraySource("[1,2]", ["input"])).toBeUndefined();
    expect(numberArraySource('{"input":{"pixels":[1,2', ["input", "pixels"])).toBeUndefined();
    expect(numberArraySource('{"input"', ["input"])).toBeUndefined();
    expect(numberArraySource("", ["input"])).toBeUndefined();
  });
});

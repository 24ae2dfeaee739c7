import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeBytes } from "../../adapters/bytes/node-bytes.ts";
import { canonicalJson } from "../receipts/canonical-json.ts";
import { decodeJobInput, encodeJobInput, inputDigest, pureBytes, TENSOR_DIGEST_DOMAIN } from "./job-input.ts";

const pixels = Array.from({ length: 784 }, (_, i) => (i % 255) / 255);
const float = fc.double({ min: -1e30, max: 1e30, noNaN: true });

describe("job inputs on the queue", () => {
  it("the native and the pure codec agree on digests and base64", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.string(), (bytes, text) => {
        expect(nodeBytes.sha256Hex([text, bytes])).toBe(pureBytes.sha256Hex([text, bytes]));
        const b64 = nodeBytes.toBase64(bytes);
        expect(pureBytes.toBase64(bytes)).toBe(b64);
        for (const codec of [pureBytes, nodeBytes]) {
          const out = new Uint8Array(bytes.length + 3);
          expect(codec.fromBase64Into(b64, out)).toBe(bytes.length);
          expect([...out.subarray(0, bytes.length)]).toStrictEqual([...bytes]);
        }
      }),
      { numRuns: 50 },
    );
    // Past the native codec's one-shot buffer (streamed instead), and a string part with multi-byte characters.
    const big = Uint8Array.from({ length: (1 << 20) + 7 }, (_, i) => i % 251);
    expect(nodeBytes.sha256Hex(["é✓", big])).toBe(pureBytes.sha256Hex(["é✓", big]));
    expect(nodeBytes.sha256Hex(["é✓", big.subarray(0, 9000)])).toBe(pureBytes.sha256Hex(["é✓", big.subarray(0, 9000)]));
  });

  it("a tensor travels as float32 bytes and decodes to exactly the values the runner feeds, with its digest", () => {
    fc.assert(
      fc.property(fc.array(float, { minLength: 1, maxLength: 1000 }), (values) => {
        for (const bytes of [nodeBytes, pureBytes]) {
          const sent = encodeJobInput(values, bytes);
          expect(sent.wire).toHaveProperty("tensor");
          const got = decodeJobInput(JSON.parse(JSON.stringify(sent.wire)), bytes);
          expect(got.input).toStrictEqual(Float32Array.from(values));
          expect(got.digest).toBe(sent.digest);
          expect(inputDigest(values, bytes)).toBe(sent.digest);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("the digest belongs to the value: a tensor sent as JSON, or as a Float32Array, digests the same", () => {
    const { digest } = encodeJobInput(pixels, nodeBytes);
    expect(decodeJobInput({ input: pixels }, nodeBytes).digest).toBe(digest);
    expect(inputDigest(Float32Array.from(pixels))).toBe(digest);
    const raw = new Uint8Array(Float32Array.from(pixels).buffer);
    expect(digest).toBe(pureBytes.sha256Hex([TENSOR_DIGEST_DOMAIN, raw]));
  });

  it("another input digests as its canonical JSON and travels as JSON", () => {
    const speech = { pcm16: "AAABAAIA" };
    const sent = encodeJobInput(speech, nodeBytes);
    expect(sent.wire).toStrictEqual({ input: speech });
    expect(sent.digest).toBe(pureBytes.sha256Hex([canonicalJson(speech)]));
    expect(decodeJobInput({ input: { pcm16: "AAABAAIA" } }).digest).toBe(sent.digest);
    // Not tensors: no JSON value shares a digest with one (the domain cannot begin canonical JSON).
    for (const value of [[], [1, "a"], [Number.NaN], "x", 3]) {
      if (Array.isArray(value) && value.some((v) => typeof v === "number" && !Number.isFinite(v))) {
        expect(() => encodeJobInput(value)).toThrow();
      } else {
        expect(encodeJobInput(value).wire).toStrictEqual({ input: value });
      }
    }
  });

  it("a different tensor, a changed byte or a reordering changes the digest", () => {
    const base = encodeJobInput(pixels, nodeBytes).digest;
    const changed = [...pixels];
    changed[400] = (changed[400] ?? 0) + 1e-6;
    expect(encodeJobInput(changed, nodeBytes).digest).not.toBe(base);
    expect(encodeJobInput([...pixels].reverse(), nodeBytes).digest).not.toBe(base);
  });

  it("refuses a message with both forms, neither, or a tensor that is not whole float32 values", () => {
    const { wire } = encodeJobInput(pixels, nodeBytes);
    const tensor = "tensor" in wire ? wire.tensor : "";
    expect(() => decodeJobInput({ tensor, input: pixels })).toThrow(/both/);
    expect(() => decodeJobInput({})).toThrow(/no input/);
    expect(() => decodeJobInput({ tensor: nodeBytes.toBase64(new Uint8Array(6)) }, nodeBytes)).toThrow(/float32/);
    expect(() => decodeJobInput({ tensor: "" }, nodeBytes)).toThrow(/float32/);
    // Text of the right length that does not decode to that many bytes (Node's decoder skips what it cannot read).
    expect(() => decodeJobInput({ tensor: `${"*".repeat(8)}AAAAAAAA` }, nodeBytes)).toThrow(/canonical/);
  });
});

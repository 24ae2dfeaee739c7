/** The tlock CLI commands, run in-process, reproduce KAT-A and fail with exit 2 / 1 as documented. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDecrypt, runEncrypt } from "../cli/chain-tlock.ts";
import { KAT_A, QUICKNET_SIGNATURES } from "../core/timelock/known-answers.ts";

function capture(): { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

const payloadHex = Buffer.from(KAT_A.plaintext).toString("hex");
const katFlags = [
  "--round",
  String(KAT_A.round),
  "--esk",
  KAT_A.eskHex,
  "--sigma",
  KAT_A.sigmaHex,
  "--nonce",
  KAT_A.nonceHex,
  "--payload",
  payloadHex,
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("chain tlock-encrypt / tlock-decrypt", () => {
  it("encrypt prints the KAT-A ciphertext", async () => {
    const io = capture();
    expect(await runEncrypt(katFlags)).toBe(0);
    expect(io.out().trim()).toBe(KAT_A.ciphertextHex);
  });

  it("decrypt prints the KAT-A plaintext", async () => {
    const io = capture();
    const code = await runDecrypt(["--signature", QUICKNET_SIGNATURES[1000], "--ciphertext", KAT_A.ciphertextHex]);
    expect(code).toBe(0);
    expect(io.out().trim()).toBe(payloadHex);
  });

  it("bad flags exit 2 with a message naming the flag", async () => {
    const io = capture();
    expect(await runEncrypt([...katFlags.slice(0, -2), "--payload", "xyz"])).toBe(2);
    expect(await runEncrypt(["--round", "-1", "--payload", "00"])).toBe(2);
    expect(await runEncrypt([...katFlags, "--bogus", "1"])).toBe(2);
    expect(await runEncrypt(katFlags.map((f) => (f === KAT_A.nonceHex ? "03" : f)))).toBe(2);
    expect(await runDecrypt(["--signature", "00"])).toBe(2);
    expect(io.err()).toMatch(/--payload: must be hex/);
    expect(io.err()).toMatch(/--nonce: must be 12 bytes/);
    expect(io.err()).toMatch(/--ciphertext/);
    expect(io.out()).toBe("");
  });

  it("a ciphertext that does not open exits 1 with the error code", async () => {
    const io = capture();
    const code = await runDecrypt(["--signature", QUICKNET_SIGNATURES[2000], "--ciphertext", KAT_A.ciphertextHex]);
    expect(code).toBe(1);
    expect(io.err()).toMatch(/InvalidSignature/);
  });
});

/**
 * Cost of timelocking a weights commit: tlockEncrypt (one G2 scalar mult, one pairing, hash-to-G1, AES-GCM) and
 * tlockDecrypt, against the baseline of plain AES-256-GCM over the same payload, measured in the same run.
 * Run: node --import tsx bench/timelock.ts
 */
import { gcm } from "@noble/ciphers/aes.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { encodeWeightsPayload, QUICKNET, tlockDecrypt, tlockEncrypt } from "../core/timelock/index.ts";
import { QUICKNET_SIGNATURES } from "../core/timelock/known-answers.ts";

const pk = hexToBytes(QUICKNET.publicKeyHex);
const sig = hexToBytes(QUICKNET_SIGNATURES[1000]);
const uids = Array.from({ length: 256 }, (_, i) => i);
const payload = encodeWeightsPayload({
  hotkey: new Uint8Array(32).fill(1),
  uids,
  values: uids.map((i) => (i * 251) % 65536),
  versionKey: 1n,
});

function timeMs(iterations: number, fn: () => void): { meanMs: number; p99Ms: number } {
  fn(); // warm-up: JIT and noble's precomputes are not what a validator pays per commit
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  const p99 = samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)] ?? Number.NaN;
  return { meanMs: mean, p99Ms: p99 };
}

const key = crypto.getRandomValues(new Uint8Array(32));
const baseline = timeMs(2000, () => {
  gcm(key, crypto.getRandomValues(new Uint8Array(12))).encrypt(payload);
});
let ciphertext: Uint8Array = new Uint8Array(0);
const encrypt = timeMs(20, () => {
  ciphertext = tlockEncrypt({ publicKeyG2: pk, round: 1000n, payload });
});
const decrypt = timeMs(20, () => {
  tlockDecrypt(sig, ciphertext);
});

const ratio = encrypt.meanMs / baseline.meanMs;
console.log(`payload ${payload.length} B, ciphertext ${ciphertext.length} B`);
console.log(`baseline AES-256-GCM: mean ${baseline.meanMs.toFixed(4)} ms`);
console.log(
  `tlockEncrypt:        mean ${encrypt.meanMs.toFixed(2)} ms, p99 ${encrypt.p99Ms.toFixed(2)} ms (x${ratio.toFixed(0)} baseline)`,
);
console.log(`tlockDecrypt:        mean ${decrypt.meanMs.toFixed(2)} ms, p99 ${decrypt.p99Ms.toFixed(2)} ms`);
console.log(
  JSON.stringify({
    ratio: Number(ratio.toFixed(1)),
    payload_bytes: payload.length,
    ciphertext_bytes: ciphertext.length,
    aes_gcm_mean_ms: Number(baseline.meanMs.toFixed(4)),
    encrypt_mean_ms: Number(encrypt.meanMs.toFixed(2)),
    encrypt_p99_ms: Number(encrypt.p99Ms.toFixed(2)),
    decrypt_mean_ms: Number(decrypt.meanMs.toFixed(2)),
    decrypt_p99_ms: Number(decrypt.p99Ms.toFixed(2)),
  }),
);

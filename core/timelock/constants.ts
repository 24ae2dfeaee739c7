/** drand quicknet, the beacon subtensor's pallet_drand follows (TIMELOCK.md §3). */
export const QUICKNET = {
  publicKeyHex:
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
  chainHash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
  genesisTime: 1692803367,
  period: 3,
} as const;

/** RFC 9380 suite quicknet signs with; passed explicitly because noble's default DST changed between 1.x and 2.x. */
export const QUICKNET_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/** `BoundedVec<u8, 5000>` bound of the commit argument (subtensor `MAX_CRV3_COMMIT_SIZE_BYTES`). */
export const MAX_COMMIT_BYTES = 5000;

/** Ciphertext bytes beyond the plaintext length in the ark layout (TIMELOCK.md §1.2). */
export const CIPHERTEXT_OVERHEAD_BYTES = 244;

/** The bittensor SDK targets the first block of the reveal epoch plus this many blocks. */
export const SECURITY_BLOCK_OFFSET = 3;

export const G1_BYTES = 48;
export const G2_BYTES = 96;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const CIPHER_SUITE = new TextEncoder().encode("AES_GCM_");

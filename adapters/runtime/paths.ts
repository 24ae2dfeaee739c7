import { createHash } from "node:crypto";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: manifests store model paths relative to it. */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));

export function resolveModelPath(path: string, rootDir: string = REPO_ROOT): string {
  return isAbsolute(path) ? path : join(rootDir, path);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

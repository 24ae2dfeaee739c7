import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The admin token comes from MARKET_ADMIN_TOKEN; when unset, one is generated once and kept in the data folder
 * (mode 0600) so that a restart keeps the same token.
 */
export async function resolveAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ token: string; source: "env" | "generated" | "saved"; file: string }> {
  const file = join(dataDir, "admin-token");
  if (fromEnv) return { token: fromEnv, source: "env", file };
  try {
    const saved = (await readFile(file, "utf8")).trim();
    if (saved.length >= 16) {
      await chmod(file, 0o600); // a token saved by an earlier version may be readable by others
      return { token: saved, source: "saved", file };
    }
  } catch {
    // Not there yet: generate below.
  }
  const token = `mat_${randomBytes(24).toString("base64url")}`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // the mode above applies only when the file is new
  return { token, source: "generated", file };
}

import { REPO_ROOT } from "./paths.ts";

/**
 * The folder the files a process ships with are relative to. A deployed function is one `bundle.mjs` plus the
 * files its `copyFiles` declares, unpacked by Lambda into LAMBDA_TASK_ROOT (the repository's layout is gone, and
 * REPO_ROOT, computed from the bundle's own URL, would be `/`); everywhere else it is the repository.
 */
export function assetRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const root = env.LAMBDA_TASK_ROOT?.trim();
  return root ? root : REPO_ROOT;
}

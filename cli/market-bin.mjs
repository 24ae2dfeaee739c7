#!/usr/bin/env node
// The `market` bin: runs cli/market.ts through tsx (a dependency), as `npm run market --` does.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const result = spawnSync(process.execPath, ["--import", "tsx", join(here, "market.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);

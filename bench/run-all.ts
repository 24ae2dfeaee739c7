/**
 * `npm run bench`: every benchmark in turn (never two at once: they would measure each other), each printing its
 * own figures; this prints each one's final JSON line again at the end, for bench/RESULTS.md.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run-all.ts")
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const summary: string[] = [];
for (const file of benches) {
  process.stdout.write(`\n== bench/${file}\n`);
  const run = spawnSync(process.execPath, ["--import", "tsx", `bench/${file}`], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.stdout.write(run.stdout);
  const last = run.stdout.trim().split("\n").pop() ?? "";
  summary.push(`${file}: ${run.status === 0 ? last : `failed (exit ${run.status})`}`);
}
process.stdout.write(`\n== summary\n${summary.join("\n")}\n`);

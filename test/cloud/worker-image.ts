import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * The GPU worker image's file layout, read from gpu-workers/Dockerfile: the final stage's `COPY` of the build
 * context, the `ENV` it sets and its `CMD`. The dependency stage (`npm ci --omit=dev`) is replaced by a link to the
 * repository's node_modules; nothing else of the repository is there.
 */
export interface ImageLayout {
  readonly copies: readonly { readonly sources: readonly string[]; readonly dest: string }[];
  readonly env: Readonly<Record<string, string>>;
  readonly cmd: readonly string[];
  readonly workdir: string;
}

export function parseDockerfile(text: string): ImageLayout {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  const final = lines.slice(lastFrom + 1);
  const copies: { sources: string[]; dest: string }[] = [];
  const env: Record<string, string> = {};
  let cmd: string[] = [];
  let workdir = "/";
  for (const line of final) {
    const [instr = "", ...rest] = line.split(/\s+/);
    const args = rest.filter((a) => !a.startsWith("--chown") && !a.startsWith("--chmod"));
    switch (instr.toUpperCase()) {
      case "COPY":
        // From another stage (node binary, node_modules): provided by this machine's node and node_modules.
        if (args.some((a) => a.startsWith("--from="))) break;
        copies.push({ sources: args.slice(0, -1), dest: args.at(-1) ?? "." });
        break;
      case "ENV":
        for (const m of rest.join(" ").matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g))
          if (m[1] && m[2] !== undefined) env[m[1]] = m[2].replace(/^"|"$/g, "");
        break;
      case "WORKDIR":
        workdir = args[0] ?? "/";
        break;
      case "CMD":
        cmd = JSON.parse(rest.join(" ")) as string[];
        break;
    }
  }
  return { copies, env, cmd, workdir };
}

/** Copies what the Dockerfile copies into `appDir` (its WORKDIR), links node_modules, applies its clean-up RUN. */
export async function stageImage(repoRoot: string, appDir: string, layout: ImageLayout, dockerfile: string) {
  await mkdir(appDir, { recursive: true });
  for (const copy of layout.copies) {
    const destDir = copy.dest === "./" || copy.dest === "." ? appDir : join(appDir, copy.dest.replace(/^\.\//, ""));
    for (const source of copy.sources) {
      const target = copy.sources.length > 1 || copy.dest.endsWith("/") ? join(destDir, source) : destDir;
      await cp(join(repoRoot, source), target, { recursive: true });
    }
  }
  await symlink(join(repoRoot, "node_modules"), join(appDir, "node_modules"), "dir");
  // The image's `RUN rm -rf gpu-workers/testing && find core adapters gpu-workers -name '*.test.ts' -delete`.
  if (!dockerfile.includes("rm -rf gpu-workers/testing") || !dockerfile.includes("-name '*.test.ts' -delete"))
    throw new Error("gpu-workers/Dockerfile's clean-up RUN changed: update test/cloud/worker-image.ts");
  await rm(join(appDir, "gpu-workers", "testing"), { recursive: true, force: true });
  for (const dir of ["core", "adapters", "gpu-workers"]) {
    for (const f of await readdir(join(appDir, dir), { recursive: true }))
      if (f.endsWith(".test.ts")) await rm(join(appDir, dir, f));
  }
}

export interface RunningImage {
  readonly child: ChildProcess;
  logs(): string;
  /** The worker's status port, from its "listening" log line. */
  port(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs the image's CMD in `appDir` with exactly `env` (the `node` of the CMD is this machine's node). */
export function runImage(appDir: string, layout: ImageLayout, env: Record<string, string>): RunningImage {
  const [bin, ...args] = layout.cmd;
  if (bin !== "node") throw new Error(`unexpected CMD ${layout.cmd.join(" ")}`);
  const child = spawn(process.execPath, args, { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return {
    child,
    logs: () => out,
    async port() {
      const until = Date.now() + 60_000;
      for (;;) {
        for (const line of out.split("\n")) {
          if (!line.includes('"listening"') && !line.includes("listening")) continue;
          const m = /"port":(\d+)/.exec(line);
          if (m?.[1]) return Number(m[1]);
        }
        if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${out.slice(-4000)}`);
        if (Date.now() > until) throw new Error(`worker did not start:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
      });
    },
  };
}

export async function readDockerfile(repoRoot: string): Promise<string> {
  return readFile(join(repoRoot, "gpu-workers", "Dockerfile"), "utf8");
}

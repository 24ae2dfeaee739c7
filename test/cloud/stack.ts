import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { vi } from "vitest";
import { type Graph, installStandIns, type Recorded, resolve, type Statement } from "./stand-ins.ts";

/**
 * The cloud stack as data: `sst.config.ts` + `infra/` evaluated with the stand-ins for one stage and one stage file.
 * What the resource-graph test checks, and what a test that runs the handlers needs to run them as deployed (each
 * function's handler, environment and copyFiles; the worker container's environment).
 */
export const ROOT = resolvePath(import.meta.dirname, "../..");
// Loaded by path so the main tsconfig does not type-check SST's config against Node's globals.
export const CONFIG = join(ROOT, "sst.config.ts");

export interface SstConfig {
  app(input: { stage: string }): { removal: string; protect: boolean };
  run(): Promise<Record<string, unknown>>;
}

export interface Evaluated {
  readonly graph: Graph;
  readonly outputs: Record<string, unknown>;
}

const dir = mkdtempSync(join(tmpdir(), "market-stage-"));

/** Evaluates the stack for `stage` configured by `stageFile` (undefined: no file). Call vi.unstubAllEnvs() after. */
export async function evaluateStack(stage: string, stageFile: unknown): Promise<Evaluated> {
  vi.resetModules();
  const path = join(dir, `${stage}-${Math.random().toString(36).slice(2)}.json`);
  if (stageFile !== undefined) writeFileSync(path, JSON.stringify(stageFile));
  vi.stubEnv("MARKET_STAGE_CONFIG", path);
  const graph = installStandIns(stage, ROOT);
  const config = (await import(CONFIG)).default as SstConfig;
  const outputs = resolve(await config.run());
  return { graph, outputs };
}

export interface CopyFile {
  readonly from: string;
  readonly to?: string;
}

export interface FunctionSpec {
  readonly handler: string;
  readonly runtime: string;
  /** The configured timeout ("70 seconds", "15 minutes") in ms. */
  readonly timeoutMs: number;
  readonly environment: Record<string, string>;
  readonly copyFiles: readonly CopyFile[];
}

/** A Lambda function as infra/ declares it ("Api", "Validator", "HoldSweeper", "SettleSubscriber"). */
export function functionSpec(graph: Graph, name: string): FunctionSpec {
  const args = resolve(graph.one("sst:aws:Function", name).args) as Record<string, unknown>;
  return {
    handler: args.handler as string,
    runtime: args.runtime as string,
    timeoutMs: durationMs(args.timeout as string | undefined),
    environment: (args.environment as Record<string, string> | undefined) ?? {},
    copyFiles: (args.copyFiles as FunctionSpec["copyFiles"] | undefined) ?? [],
  };
}

/** SST's duration strings as functions use them; SST's default of 20 s when unset. */
function durationMs(duration: string | undefined): number {
  if (duration === undefined) return 20_000;
  const m = /^(\d+) (second|minute)s?$/.exec(duration);
  if (!m) throw new Error(`unreadable timeout ${duration}`);
  return Number(m[1]) * (m[2] === "minute" ? 60_000 : 1000);
}

export interface WorkerContainer {
  readonly image: string;
  readonly environment: { name: string; value: string }[];
  readonly secrets: { name: string; valueFrom: string }[];
  readonly logConfiguration: { logDriver: string; options: Record<string, string> };
}

/** The GPU worker's container definition (stages with GPUs). */
export function workerContainer(graph: Graph): WorkerContainer {
  const task: Recorded = graph.one("aws:ecs:TaskDefinition", "GpuWorkerTask");
  const [container] = JSON.parse(resolve(task.args.containerDefinitions) as string) as WorkerContainer[];
  if (!container) throw new Error("the task definition has no container");
  return container;
}

/** The statements of a role's inline policies (the whole authority of every role infra/ creates). */
export function statementsOfRole(role: Recorded): Statement[] {
  const policies = resolve(role.args.inlinePolicies) as { policy: string }[] | undefined;
  return (policies ?? []).flatMap((p) => (JSON.parse(p.policy) as { Statement: Statement[] }).Statement);
}

export function roleByArn(graph: Graph, arn: unknown): Recorded {
  const role = graph.byType("aws:iam:Role").find((r) => resolve(r.instance.arn) === resolve(arn));
  if (!role) throw new Error(`no role with arn ${String(resolve(arn))}`);
  return role;
}

/** Everything a function may do: its role's statements and whatever SST would attach on its own (stand-ins.ts). */
export function functionStatements(graph: Graph, name: string): Statement[] {
  const fn = graph.one("sst:aws:Function", name);
  const implicit = (fn.instance as unknown as { implicit: Statement[] }).implicit;
  const own = fn.args.role === undefined ? [] : statementsOfRole(roleByArn(graph, fn.args.role));
  return [...own, ...implicit];
}

/** SSM parameters infra declares, by parameter name, with the sst.Secret each copies (`<Secret>Parameter`). */
export function secretParameters(graph: Graph): { name: string; secret: string; arn: string }[] {
  return graph.byType("aws:ssm:Parameter").map((p) => ({
    name: String(resolve(p.args.name)),
    secret: p.name.replace(/Parameter$/, ""),
    arn: String(resolve(p.instance.arn)),
  }));
}

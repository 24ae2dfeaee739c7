import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { ComponentHealth, HealthReport } from "../../functions/api/deps.ts";
import type { ChainPart } from "./chain.ts";
import type { DataPlane } from "./data-plane.ts";
import type { ValidatorLoop } from "./validator-loop.ts";
import type { WorkersPart } from "./workers.ts";

/** Runs a probe with a deadline; a probe that throws or hangs reports its component as down. */
async function probe(fn: () => Promise<ComponentHealth>, timeoutMs = 2000): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<ComponentHealth>((resolve) => {
        timer = setTimeout(() => resolve({ state: "down", detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
  } catch (error) {
    return { state: "down", detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health of the local market: each component asked for real (queue depth, a table listing, the chain's block). */
export function marketHealth(parts: {
  dataPlane: DataPlane;
  chain: ChainPart;
  workers: WorkersPart;
  validator: ValidatorLoop;
}): () => Promise<HealthReport> {
  const { dataPlane, chain, workers, validator } = parts;
  return async () => {
    const [queue, tables, chainState] = await Promise.all([
      probe(async () => {
        const [depth, validation] = await Promise.all([dataPlane.queue.depth(), dataPlane.validationQueue.depth()]);
        // The paid jobs queue's depth at the top (what clients wait on), the validator's queue beside it.
        return { state: "ok", emulated: dataPlane.emulated.sqs, ...depth, validation };
      }),
      probe(async () => {
        const out = await dataPlane.dynamo.send(new ListTablesCommand({}));
        return { state: "ok", emulated: dataPlane.emulated.dynamo, tables: out.TableNames?.length ?? 0 };
      }),
      probe(async () => {
        const [block, epoch] = await Promise.all([chain.chain.currentBlock(), chain.chain.epochIndex(chain.netuid)]);
        const rpc = chain.rpcUrl ? { rpcUrl: chain.rpcUrl } : {};
        return { state: "ok", kind: chain.kind, netuid: chain.netuid, block, epoch, ...rpc };
      }),
    ]);
    const alive = workers.alive();
    const workerState: ComponentHealth =
      workers.mode === "none"
        ? { state: "disabled", count: 0 }
        : {
            state: alive === workers.count ? "ok" : alive > 0 ? "degraded" : "down",
            alive,
            count: workers.count,
            mode: workers.mode,
          };
    const v = validator.status();
    const validatorState: ComponentHealth = {
      state: v.state === "disabled" ? "disabled" : v.state === "stopped" ? "down" : "ok",
      running: v.state === "running",
      lastEpoch: v.lastEpoch,
      lastResult: v.lastResult,
      runs: v.runs,
      failures: v.failures,
    };
    const components = {
      api: { state: "ok" as const },
      queue,
      tables,
      chain: chainState,
      workers: workerState,
      validator: validatorState,
    };
    const status = Object.values(components).every((c) => c.state === "ok" || c.state === "disabled")
      ? "ok"
      : "degraded";
    return { status, components };
  };
}

/**
 * Reading a 4,096-uid metagraph through the subtensor adapter over the devnet's JSON-RPC (state_call
 * NeuronInfoRuntimeApi_get_neurons + the BlockAtRegistration map, SCALE over a WebSocket), against the same read
 * from the embedded devnet in the same run. 64 validators hold a full weight row and bonds. Target: under 1 s a read.
 * The last line is JSON.
 */
import { encodeAddress } from "@polkadot/util-crypto";
import { createDevnet, DevnetChain } from "../adapters/chain/devnet/index.ts";
import { startDevnetRpc } from "../adapters/chain/devnet/rpc/index.ts";
import { connectSubtensor } from "../adapters/chain/subtensor/chain.ts";
import { identityReady } from "../adapters/identity/sr25519.ts";

const UIDS = 4096;
const VALIDATORS = 64;
const READS = Number(process.env.BENCH_N ?? 5);

function address(i: number): string {
  const bytes = new Uint8Array(32);
  new DataView(bytes.buffer).setUint32(0, i + 1);
  return encodeAddress(bytes, 42);
}

async function timed(read: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < READS; i++) {
    const start = performance.now();
    await read();
    times.push(performance.now() - start);
  }
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

await identityReady();
const devnet = createDevnet({ blockTimeMs: 1000, genesisTimeMs: 1_750_000_000_000 });
const owner = address(1_000_000);
const netuid = devnet.createSubnet({ netuid: 1, ownerColdkey: owner });
devnet.setHyperparams(netuid, { maxAllowedUids: UIDS, tempo: 360, commitRevealWeightsEnabled: false });
for (let i = 0; i < UIDS; i++) {
  const result = devnet.register(owner, address(i), netuid);
  if (!result.ok) throw new Error(result.error);
}
const subnet = devnet.state.subnets[String(netuid)];
if (!subnet) throw new Error("no subnet");
const row: [number, number][] = Array.from({ length: UIDS }, (_, j) => [j, (j * 7919) % 65536]);
for (let v = 0; v < VALIDATORS; v++) {
  const neuron = subnet.neurons[v];
  if (!neuron) continue;
  neuron.validatorPermit = true;
  neuron.weights = row;
  neuron.bonds = row;
  subnet.stake[neuron.hotkey] = 1_000_000_000_000n;
}
devnet.produceBlock();

const rpc = await startDevnetRpc({ devnet });
const chain = await connectSubtensor({ url: rpc.url });
const embedded = new DevnetChain(devnet);
const check = await chain.metagraph(netuid);
if (check.n !== UIDS || check.weights[0]?.length !== UIDS) throw new Error("the RPC metagraph is incomplete");

const rpcTimes = await timed(() => chain.metagraph(netuid));
const baseTimes = await timed(() => embedded.metagraph(netuid));
await chain.close();
await rpc.close();

const rpcMs = median(rpcTimes);
const baseMs = median(baseTimes);
process.stdout.write(
  `metagraph of ${UIDS} uids over RPC: median ${rpcMs.toFixed(0)} ms (${rpcTimes.map((t) => t.toFixed(0)).join(", ")})\n`,
);
process.stdout.write(`embedded devnet: median ${baseMs.toFixed(2)} ms\n`);
process.stdout.write(
  `${JSON.stringify({ uids: UIDS, validators: VALIDATORS, rpc_ms: Math.round(rpcMs), embedded_ms: Number(baseMs.toFixed(2)), ratio: Number((rpcMs / Math.max(baseMs, 0.01)).toFixed(1)), under_1s: rpcMs < 1000 })}\n`,
);

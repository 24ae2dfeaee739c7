// A throw-away process that loads one uploaded model (no run) and reports its tensors against a contract. The API
// never loads a miner's model in its own process: a malformed or hostile file can at worst crash or stall this one.
// stdin: the model bytes; argv[2]: the contract as JSON. stdout: one JSON line {ok:true} | {ok:false, detail}.
import ort from "onnxruntime-node";
import { z } from "zod";
import { TensorSpec } from "../../core/experts/manifest.ts";
import { checkModelContract, ModelContractError, type ModelTensorInfo } from "./model-contract.ts";

const Contract = z.object({ inputs: z.array(TensorSpec).min(1), outputs: z.array(TensorSpec).min(1) });

async function main(): Promise<{ ok: true } | { ok: false; detail: string }> {
  const contract = Contract.parse(JSON.parse(process.argv[2] ?? "null"));
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const bytes = new Uint8Array(Buffer.concat(chunks));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], logSeverityLevel: 4 });
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 200);
    return { ok: false, detail: `not a loadable ONNX model: ${first}` };
  }
  try {
    const info = (list: readonly ort.InferenceSession.ValueMetadata[]): ModelTensorInfo[] =>
      list.map((m) =>
        m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false },
      );
    checkModelContract("model", contract, info(session.inputMetadata), info(session.outputMetadata));
    return { ok: true };
  } catch (error) {
    if (error instanceof ModelContractError) return { ok: false, detail: error.message };
    throw error;
  } finally {
    await session.release();
  }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  () => process.exit(3),
);

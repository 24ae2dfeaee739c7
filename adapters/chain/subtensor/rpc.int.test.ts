/** The Chain contract on the subtensor adapter, over WebSocket JSON-RPC, against the devnet's RPC server. */
import { describe } from "vitest";
import { signerFromUri } from "../../identity/sr25519.ts";
import { chainContract } from "../contract.ts";
import { startDevnetRpc } from "../devnet/rpc/index.ts";
import { testSubnet } from "../devnet/testing.ts";
import { connectSubtensor } from "./chain.ts";

describe("Chain contract over RPC", () => {
  chainContract("subtensor over devnet RPC", async () => {
    const t = await testSubnet();
    const rpc = await startDevnetRpc({ devnet: t.devnet });
    const chain = await connectSubtensor({ url: rpc.url, inclusionTimeoutMs: 10_000 });
    return {
      chain,
      netuid: t.netuid,
      coldkey: t.owner,
      validator: t.validator,
      miners: t.miners,
      unregistered: signerFromUri("//ContractNewcomer"),
      advance: async (blocks) => {
        t.devnet.advance(blocks);
      },
      close: async () => {
        await chain.close();
        await rpc.close();
      },
    };
  });
});

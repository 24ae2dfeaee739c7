import { describe } from "vitest";
import { signerFromUri } from "../../identity/sr25519.ts";
import { chainContract } from "../contract.ts";
import { testSubnet } from "./testing.ts";

describe("Chain contract", () => {
  chainContract("devnet", async () => {
    const t = await testSubnet();
    return {
      chain: t.chain,
      netuid: t.netuid,
      coldkey: t.owner,
      validator: t.validator,
      miners: t.miners,
      unregistered: signerFromUri("//ContractNewcomer"),
      advance: async (blocks) => {
        t.devnet.advance(blocks);
      },
      close: () => t.chain.close(),
    };
  });
});

import { MemoryScoreStore } from "./memory-scores.ts";
import { scoreStoreContract } from "./scores-contract.ts";

scoreStoreContract("memory", async () => new MemoryScoreStore());

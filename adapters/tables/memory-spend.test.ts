import { MemorySpendStore } from "./memory-spend.ts";
import { describeSpendContract } from "./spend-contract.ts";

describeSpendContract("MemorySpendStore", () => new MemorySpendStore());

import { describeJobStoreContract } from "./jobs-contract.ts";
import { MemoryJobStore } from "./memory-jobs.ts";

describeJobStoreContract("MemoryJobStore", () => new MemoryJobStore());

import { describeLedgerContract } from "./ledger-contract.ts";
import { MemoryLedger } from "./memory-ledger.ts";

describeLedgerContract("MemoryLedger", () => new MemoryLedger());

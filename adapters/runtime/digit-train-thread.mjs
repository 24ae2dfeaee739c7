// The digit build's training thread (digit-train-pool.ts). A worker thread does not inherit the parent's TypeScript
// loader, so this plain module loads the TypeScript entry through tsx's API, as inference-thread.mjs does.
import { tsImport } from "tsx/esm/api";

await tsImport("./digit-train-thread.ts", import.meta.url);

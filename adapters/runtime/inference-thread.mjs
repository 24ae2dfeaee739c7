// The inference thread's entry (threaded-runtime.ts). A worker thread does not inherit the parent's TypeScript
// loader (`--import tsx` registers its hooks for the main thread only), so this plain module loads the TypeScript
// entry through tsx's API: the same under `npm start`, the container and vitest.
import { tsImport } from "tsx/esm/api";

await tsImport("./inference-thread.ts", import.meta.url);

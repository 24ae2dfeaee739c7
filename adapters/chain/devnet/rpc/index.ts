/** The devnet served over Substrate JSON-RPC (WebSocket) with mainnet's metadata. */

export { CUSTOM as POOL_CUSTOM_ERRORS } from "./pool.ts";
export { type DevnetRpc, type DevnetRpcOptions, startDevnetRpc } from "./server.ts";

/** The embedded devnet: public surface. */
export type { AdminOrigin, CreateSubnetOptions, HyperparamsPatch } from "./admin.ts";
export { DevnetChain, type DevnetChainOptions } from "./chain.ts";
export type { Dispatch } from "./context.ts";
export { type CreateDevnetOptions, coreTimelock, createDevnet, restoreDevnet } from "./create.ts";
export {
  type ChainRegistrationOptions,
  createDemoSubnet,
  type DemoSubnet,
  type DemoSubnetOptions,
  registerExpertsThroughChain,
} from "./demo.ts";
export { type BeaconInfo, Devnet, type DevnetOptions } from "./devnet.ts";
export type { EpochFn } from "./epoch-runner.ts";
export { type FileBackedDevnet, type FileBackedOptions, openFileBackedDevnet, readSnapshot } from "./file-store.ts";
export { parseState, serializeState, writeFileAtomic } from "./persistence.ts";
export { commitHash } from "./rules/commit-hash.ts";
export type { PulseSource, TimelockOps } from "./rules/timelock.ts";
export { type DevnetState, defaultHyperparams } from "./state.ts";

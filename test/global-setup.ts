import { sharedExperts } from "../stacks/ephemeral/experts-cache.ts";

/**
 * Builds the shared test experts once, before any test file runs (a no-op when this machine has a fresh build), so
 * that no test pays the build: ephemeral markets link them, `npm start` tests seed their data folder with a copy.
 * The build itself is covered by cli/experts.int.test.ts and adapters/runtime/digit-experts.int.test.ts.
 */
export default async function setup(): Promise<void> {
  await sharedExperts();
}

import { sharedExperts } from "../stacks/ephemeral/experts-cache.ts";
import { buildDashboardAssets } from "../web/build.ts";

/**
 * Builds the shared test experts once, before any test file runs (a no-op when this machine has a fresh build), so
 * that no test pays the build: ephemeral markets link them, `npm start` tests seed their data folder with a copy.
 * The build itself is covered by cli/experts.int.test.ts and adapters/runtime/digit-experts.int.test.ts.
 */
export default async function setup(): Promise<void> {
  await sharedExperts();
  // The dashboard the browser test loads and the API Lambda bundle copies (web/dist); a no-op when up to date.
  await buildDashboardAssets({ quiet: true });
}

import { join } from "node:path";
import { assetRoot } from "../../adapters/runtime/assets.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { DashboardSource, ExpertLabel } from "../api/dashboard/source.ts";

/** Where `npm run build:web` writes the dashboard (relative to the repository, or to LAMBDA_TASK_ROOT). */
export const WEB_DIST = "web/dist";

/** The dashboard's reads, from the parts `npm start` and the API Lambda already compose. */
export function marketDashboardSource(options: {
  readonly chain: Chain;
  readonly netuid: number;
  readonly scores: ScoreStore;
  readonly manifests: () => Promise<readonly ExpertManifest[]>;
}): DashboardSource {
  return {
    netuid: options.netuid,
    metagraph: () => options.chain.metagraph(options.netuid),
    scores: options.scores,
    async labels() {
      const manifests = await options.manifests();
      return new Map<string, ExpertLabel>(manifests.map((m) => [m.hotkey, { name: m.id, task: m.task }]));
    },
    assetsDir: join(assetRoot(), WEB_DIST),
  };
}

import { type ClientOptions, inProcessClient } from "../../../client/client.ts";
import { createApp } from "../app.ts";
import type { Clock } from "../deps.ts";
import { answerQueuedJobs, type Misbehaviour } from "./fake-experts.ts";
import { type MemoryDepsOptions, type MemoryKit, memoryDeps, TEST_ADMIN_TOKEN } from "./memory-deps.ts";

/** An in-memory app, an admin client, and helpers to make funded keys and to run the fake workers. */
export async function harness(overrides: MemoryDepsOptions = {}) {
  const kit: MemoryKit = await memoryDeps(overrides);
  const app = createApp(kit.deps);
  const admin = inProcessClient(app, { adminToken: TEST_ADMIN_TOKEN });
  const clientFor = (apiKey: string, extra: Omit<ClientOptions, "baseUrl" | "fetch" | "apiKey"> = {}) =>
    inProcessClient(app, { apiKey, ...extra });
  async function fundedKey(
    credits: number,
    extra: {
      scopes?: ("infer" | "read")[];
      rateLimit?: { perMinute: number; burst: number };
      expiresAt?: string;
      spendLimit?: { perDay?: number; total?: number };
    } = {},
  ) {
    const created = await admin.createKey({
      name: "test",
      credits,
      rateLimit: { perMinute: 100_000, burst: 10_000 },
      ...extra,
    });
    if (!created.ok) throw new Error(`createKey failed: ${JSON.stringify(created.problem)}`);
    return { ...created.data, client: clientFor(created.data.key) };
  }
  /** Runs the fake workers until `stop` resolves. */
  function startWorkers(behave?: (uid: number) => Misbehaviour) {
    let running = true;
    const loop = (async () => {
      while (running) {
        const n = await answerQueuedJobs(kit.queue, kit.jobs, kit.experts, {
          waitSeconds: 0,
          ...(behave ? { behave } : {}),
        });
        if (n === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }
  return { ...kit, app, admin, clientFor, fundedKey, startWorkers };
}

export const digitInput = (value = 0.5) => ({ pixels: new Array<number>(784).fill(value) });

/** A clock whose time the test moves; sleeps advance it (so sync waits end at once). */
export function manualClock(start = 1_800_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((r) => setImmediate(r));
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

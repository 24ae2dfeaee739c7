import { describe, expect, it } from "vitest";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import { parseWorkerConfig } from "./config.ts";
import { workerRuntime } from "./runtime.ts";

describe("workerRuntime", () => {
  it("runs the experts in a thread unless WORKER_INFERENCE_THREAD is off", async () => {
    const threaded = workerRuntime(parseWorkerConfig({}), () => {});
    expect(threaded.where).toBe("thread");
    expect("restartThread" in threaded.runtime).toBe(true);
    // No thread was started (nothing loaded): closing has nothing to wait for.
    expect(await threaded.close(10)).toBe(true);
    // Closed for good: no call starts a thread again.
    await expect(threaded.runtime.load({} as ExpertManifest)).rejects.toThrow(/closed/);
    const inline = workerRuntime(parseWorkerConfig({ WORKER_INFERENCE_THREAD: "false" }), () => {});
    expect(inline.where).toBe("inline");
    expect("restartThread" in inline.runtime).toBe(false);
    expect(await inline.close()).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture(level?: "debug" | "info") {
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l), pretty: false, component: "api", level });
  return { log, lines };
}

describe("logger", () => {
  it("writes one JSON object per line with level, component and fields", () => {
    const { log, lines } = capture();
    log.info("query accepted", { requestId: "r1", cost: 2000 });
    const record = JSON.parse(lines[0] ?? "{}");
    expect(record).toMatchObject({
      level: "info",
      component: "api",
      msg: "query accepted",
      requestId: "r1",
      cost: 2000,
    });
  });

  it("drops records below the level", () => {
    const { log, lines } = capture("info");
    log.debug("noise");
    expect(lines).toHaveLength(0);
  });

  it("redacts secret-looking fields", () => {
    const { log, lines } = capture();
    log.info("boot", { adminToken: "abc", mnemonic: "word word", key: "mk_live_x", keyId: "k1" });
    const record = JSON.parse(lines[0] ?? "{}");
    expect(record.adminToken).toBe("[redacted]");
    expect(record.mnemonic).toBe("[redacted]");
    expect(record.key).toBe("[redacted]");
    expect(record.keyId).toBe("k1");
  });

  it("children carry their component and fields", () => {
    const { log, lines } = capture();
    log.child("worker", { workerId: "w1" }).warn("slow batch", { jobId: "j" });
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ component: "worker", workerId: "w1", jobId: "j" });
  });
});

import { readFileSync } from "node:fs";
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpuBetween, readCpu, statCpuMs } from "../bench/support/thread-cpu.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

// bench/market.ts splits a query's CPU by thread (issue 17): the split must put the emulators' work on their thread
// and this thread's own work on the main one, or its "where the time goes" lines say nothing.
const linux = process.platform === "linux";

describe("statCpuMs", () => {
  it("counts utime and stime after the command name, whatever the name holds", () => {
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = "4242 (node (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 123 45 0 0 20 0 11 0";
    expect(statCpuMs(line)).toBe((123 + 45) * 10);
    expect(statCpuMs("4242 (node) S 1")).toBeNull();
  });
});

describe.runIf(linux)("readCpu with the emulators' thread", () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(async () => {
    await emulators?.stop();
  });

  it("knows the emulators' OS thread, a thread of this process other than the main one", () => {
    expect(emulators.osThreadId).toEqual(expect.any(Number));
    expect(emulators.osThreadId).not.toBe(process.pid);
    expect(readCpu(emulators.osThreadId)?.get(`thread ${emulators.osThreadId}`)?.part).toBe("emulators");
  });

  it("puts SQS work on the emulators' thread and a busy loop here on the main thread", async () => {
    const sqs = new SQSClient({
      endpoint: emulators.sqsEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const before = readCpu(emulators.osThreadId);
    // Busy the main thread until the kernel has counted 100 ms of CPU on it (however loaded the machine is), then
    // have the emulators work a while.
    const mainMs = () => statCpuMs(readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8")) ?? 0;
    const start = mainMs();
    const giveUp = performance.now() + 10_000;
    while (mainMs() - start < 100 && performance.now() < giveUp) {
      for (let i = 0; i < 100_000; i++) Math.sqrt(Math.random());
    }
    for (let i = 0; i < 60; i++) {
      await sqs.send(new CreateQueueCommand({ QueueName: `cpu-split-${i % 5}` }));
      await sqs.send(new ListQueuesCommand({}));
    }
    sqs.destroy();
    const after = readCpu(emulators.osThreadId);
    if (!before || !after) throw new Error("no /proc");
    const parts = cpuBetween(before, after);
    expect(parts.main).toBeGreaterThanOrEqual(100);
    expect(parts.emulators).toBeGreaterThan(0);
    // The busy loop is not the emulators': their thread only served the SQS calls.
    expect(parts.emulators).toBeLessThan(parts.main);
    expect(parts.workers).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { exitThrough } from "./exit.ts";

function harness(ended: boolean | Error) {
  const calls: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const leave = exitThrough({
    close: async () => {
      calls.push("close");
      await gate;
      if (ended instanceof Error) throw ended;
      return ended;
    },
    exit: (code) => calls.push(`exit ${code}`),
    kill: () => calls.push("kill"),
    log: (msg, fields) => calls.push(`log ${msg} ${JSON.stringify(fields)}`),
  });
  return { calls, leave, release };
}

describe("exitThrough", () => {
  it("exits with the first code once the thread has ended, however many times it is asked", async () => {
    const { calls, leave, release } = harness(true);
    const first = leave(0);
    const second = leave(1);
    expect(calls).toEqual(["close"]); // nothing exits before the thread has ended
    release();
    await Promise.all([first, second]);
    expect(calls).toEqual(["close", "exit 0"]);
  });

  it("kills the process, after saying why, when the thread did not end in time", async () => {
    const { calls, leave, release } = harness(false);
    release();
    await leave(1);
    expect(calls).toEqual([
      "close",
      'log a model call or load did not return in time; killing the worker {"exitCode":1}',
      "kill",
    ]);
  });

  it("still exits when ending the thread failed", async () => {
    const { calls, leave, release } = harness(new Error("boom"));
    release();
    await leave(2);
    expect(calls).toEqual(["close", "exit 2"]);
  });
});

import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { onStopSignals } from "./stop-signals.ts";

function harness() {
  const source = new EventEmitter();
  let clock = 0;
  const calls: string[] = [];
  const dispose = onStopSignals({
    source: source as unknown as Pick<NodeJS.Process, "on" | "off">,
    now: () => clock,
    duplicateMs: 1500,
    onStop: (s) => calls.push(`stop ${s}`),
    onDuplicate: (s) => calls.push(`dup ${s}`),
    onForce: (s) => calls.push(`force ${s}`),
  });
  return {
    calls,
    dispose,
    send: (signal: NodeJS.Signals, at: number) => {
      clock = at;
      source.emit(signal, signal);
    },
  };
}

describe("stop signals", () => {
  it("SIGTERM and SIGINT each start one stop", () => {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      const h = harness();
      h.send(signal, 0);
      expect(h.calls).toEqual([`stop ${signal}`]);
    }
  });

  it("a Ctrl-C that arrives twice (terminal and npm) stops once; a later one forces", () => {
    const h = harness();
    h.send("SIGINT", 0);
    h.send("SIGINT", 40);
    expect(h.calls).toEqual(["stop SIGINT", "dup SIGINT"]);
    h.send("SIGINT", 5000);
    expect(h.calls).toEqual(["stop SIGINT", "dup SIGINT", "force SIGINT"]);
  });

  it("stops listening when disposed", () => {
    const h = harness();
    h.dispose();
    h.send("SIGTERM", 0);
    expect(h.calls).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { drainingHandler } from "./lambda-drain.ts";

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe("drainingHandler", () => {
  it("answers only once the ledger's background work has ended, with the handler's answer", async () => {
    let endRollups: () => void = () => {};
    const rollups = new Promise<void>((resolve) => {
      endRollups = resolve;
    });
    const handler = drainingHandler(async (event: { n: number }) => ({ statusCode: 200, body: String(event.n) }), {
      drain: () => rollups,
    });
    let answered = false;
    const answer = handler({ n: 7 }).then((r) => {
      answered = true;
      return r;
    });
    await turns(5);
    // The handler is done, its ledger is not: returning now would freeze the rollup with the container.
    expect(answered).toBe(false);
    endRollups();
    expect(await answer).toEqual({ statusCode: 200, body: "7" });
  });

  it("drains after a handler that threw too, and a failed drain leaves the answer as it is", async () => {
    let drained = 0;
    const failing = drainingHandler(
      async () => {
        throw new Error("handler failed");
      },
      {
        drain: async () => {
          drained++;
        },
      },
    );
    await expect(failing()).rejects.toThrow("handler failed");
    expect(drained).toBe(1);
    const ok = drainingHandler(async () => "ok", {
      drain: async () => {
        throw new Error("rollup failed");
      },
    });
    expect(await ok()).toBe("ok");
  });
});

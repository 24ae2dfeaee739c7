import { describe, expect, it } from "vitest";
import { claimPort, PortInUseError } from "./port-claim.ts";

describe("claimPort", () => {
  it("answers 503 until the app is attached, then the app; a second claim of the port fails naming it", async () => {
    const claimed = await claimPort("127.0.0.1", 0);
    try {
      const url = `http://127.0.0.1:${claimed.port}/health`;
      const before = await fetch(url);
      expect(before.status).toBe(503);
      expect(await before.json()).toEqual({ status: "starting" });

      const error = await claimPort("127.0.0.1", claimed.port).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect(String((error as Error).message)).toContain(`port ${claimed.port} on 127.0.0.1 is already in use`);

      claimed.attach(() => new Response("app", { status: 200 }));
      let after = await fetch(url);
      for (let i = 0; i < 50 && after.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 20)); // the request listener is loaded on attach
        after = await fetch(url);
      }
      expect(after.status).toBe(200);
      expect(await after.text()).toBe("app");
    } finally {
      await claimed.close();
    }
  });
});

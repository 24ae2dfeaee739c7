import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GENERATED_TYPES_PATH, generateTypes, liveOpenApiDocument } from "../client/generate.ts";

describe("the generated API client", () => {
  it("matches what the current API's /openapi.json produces (run `npm run gen:client` after changing a route)", async () => {
    const committed = await readFile(GENERATED_TYPES_PATH, "utf8");
    const fresh = await generateTypes(await liveOpenApiDocument());
    expect(committed === fresh, "client/openapi-types.ts is stale: run `npm run gen:client` and commit it").toBe(true);
  });

  it("imports nothing of the server, so it can be published on its own", async () => {
    // generate.ts is the build-time generator (it runs the API); everything else under client/ is the client.
    const files = (await readdir(new URL("../client/", import.meta.url))).filter((f) => f !== "generate.ts");
    expect(files).toContain("client.ts");
    for (const file of files) {
      const text = await readFile(new URL(`../client/${file}`, import.meta.url), "utf8");
      const specifiers = [...text.matchAll(/\bfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2]);
      const outside = specifiers.filter((s) => s?.startsWith("..") || (!s?.startsWith("./") && !isPackage(s)));
      expect(outside, file).toEqual([]);
    }
  });
});

/** The client's run-time packages: openapi-fetch, pngjs (digit PNGs) and Node's own modules. */
function isPackage(specifier: string | undefined): boolean {
  return specifier === "openapi-fetch" || specifier === "pngjs" || Boolean(specifier?.startsWith("node:"));
}

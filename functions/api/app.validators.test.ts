import { describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import type { DirectoryValidator } from "./deps.ts";
import { memoryDeps } from "./testing/memory-deps.ts";

const validators: DirectoryValidator[] = [
  {
    uid: 0,
    hotkey: "5Validator",
    // u64 rao beyond a JSON number's exact range: a string, unchanged.
    stake: "18446744073709551615",
    validatorPermit: true,
    validatorTrust: 61234,
    dividends: 40000,
    lastWeightsBlock: 120,
  },
];

async function appWith(withValidators: boolean) {
  const kit = await memoryDeps();
  const directory = withValidators
    ? {
        ...kit.deps.directory,
        validators: async () => validators,
        metagraph: async () => ({ ...(await kit.deps.directory.metagraph()), validators }),
      }
    : kit.deps.directory;
  return createApp({ ...kit.deps, directory });
}

describe("GET /v1/validators", () => {
  it("lists the validators as the chain stores them, and the metagraph view shows them too", async () => {
    const app = await appWith(true);
    const res = await app.request("/v1/validators");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ validators });
    const metagraph = (await (await app.request("/v1/metagraph")).json()) as { validators?: unknown };
    expect(metagraph.validators).toEqual(validators);
  });

  it("answers an empty list where the directory knows no chain", async () => {
    const res = await (await appWith(false)).request("/v1/validators");
    expect(await res.json()).toEqual({ validators: [] });
  });

  it("is in the OpenAPI document with its schema", async () => {
    const doc = (await (await (await appWith(true)).request("/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.paths["/v1/validators"]).toBeDefined();
    expect(Object.keys(doc.components.schemas.Validator?.properties ?? {}).sort()).toEqual(
      ["dividends", "hotkey", "lastWeightsBlock", "stake", "uid", "validatorPermit", "validatorTrust"].sort(),
    );
  });
});

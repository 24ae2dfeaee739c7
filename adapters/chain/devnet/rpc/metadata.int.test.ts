/**
 * The metadata the devnet serves, as @polkadot/api receives it over WebSocket, against the mainnet capture
 * (shared/vectors/mainnet-metadata-v15.hex), item by item for everything the market touches.
 */
import { readFileSync } from "node:fs";
import { ApiPromise, WsProvider } from "@polkadot/api";
import { Metadata, TypeRegistry } from "@polkadot/types";
import type { MetadataV15 } from "@polkadot/types/interfaces";
import { hexToU8a } from "@polkadot/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LATER_RUNTIME_APIS,
  LATER_STORAGE,
  MARKET_CALLS,
  MARKET_COMMITMENT_ERRORS,
  MARKET_ERRORS,
  MARKET_EVENTS,
  MARKET_RUNTIME_APIS,
  MARKET_STORAGE,
} from "../../subtensor/surface.ts";
import type { Devnet } from "../devnet.ts";
import { testSubnet } from "../testing.ts";
import { type DevnetRpc, startDevnetRpc } from "./index.ts";

function mainnetV15(): { registry: TypeRegistry; v15: MetadataV15 } {
  const registry = new TypeRegistry();
  const hex = readFileSync(new URL("./mainnet-metadata-v15.hex", import.meta.url), "utf8").trim();
  const opaque = registry.createType("Option<OpaqueMetadata>", hexToU8a(hex)).unwrap();
  const metadata = new Metadata(registry, opaque.toHex());
  registry.setMetadata(metadata);
  return { registry, v15: metadata.asV15 };
}

/** Everything about one item that a byte-level client depends on, with types both as ids and as definitions. */
class View {
  constructor(
    readonly registry: TypeRegistry,
    readonly v15: MetadataV15,
  ) {}

  private type(id: { toNumber(): number }) {
    return { id: id.toNumber(), def: this.registry.lookup.getTypeDef(id.toNumber()).type };
  }

  private pallet(name: string) {
    const pallet = this.v15.pallets.find((p) => p.name.toString() === name);
    if (!pallet) throw new Error(`no pallet ${name}`);
    return pallet;
  }

  private variants(name: string, which: "calls" | "events" | "errors") {
    const field = this.pallet(name)[which];
    if (field.isNone) return [];
    return this.registry.lookup.getSiType(field.unwrap().type).def.asVariant.variants;
  }

  variant(pallet: string, which: "calls" | "events" | "errors", item: string) {
    const v = this.variants(pallet, which).find((x) => x.name.toString() === item);
    if (!v) return null;
    return {
      pallet: this.pallet(pallet).index.toNumber(),
      index: v.index.toNumber(),
      fields: v.fields.map((f) => ({ name: f.name.toString(), ...this.type(f.type) })),
    };
  }

  storage(pallet: string, item: string) {
    const storage = this.pallet(pallet).storage;
    const entry = storage.isSome ? storage.unwrap().items.find((i) => i.name.toString() === item) : undefined;
    if (!entry) return null;
    const shape = entry.type.isPlain
      ? { value: this.type(entry.type.asPlain) }
      : {
          hashers: entry.type.asMap.hashers.map((h) => h.type),
          key: this.type(entry.type.asMap.key),
          value: this.type(entry.type.asMap.value),
        };
    return {
      prefix: storage.unwrap().prefix.toString(),
      modifier: entry.modifier.type,
      fallback: entry.fallback.toHex(),
      ...shape,
    };
  }

  runtimeApi(api: string, method: string) {
    const m = this.v15.apis.find((a) => a.name.toString() === api)?.methods.find((x) => x.name.toString() === method);
    if (!m) return null;
    return {
      inputs: m.inputs.map((i) => ({ name: i.name.toString(), ...this.type(i.type) })),
      output: this.type(m.output),
    };
  }

  extensions() {
    return this.v15.extrinsic.signedExtensions.map((e) => ({
      identifier: e.identifier.toString(),
      extra: this.type(e.type),
      additional: this.type(e.additionalSigned),
    }));
  }
}

describe("served metadata vs mainnet's", () => {
  let rpc: DevnetRpc;
  let api: ApiPromise;
  let served: View;
  let devnet: Devnet;
  const mainnet = (() => {
    const { registry, v15 } = mainnetV15();
    return new View(registry, v15);
  })();

  beforeAll(async () => {
    const t = await testSubnet();
    devnet = t.devnet;
    rpc = await startDevnetRpc({ devnet: t.devnet });
    api = await ApiPromise.create({ provider: new WsProvider(rpc.url), throwOnConnect: true, noInitWarn: true });
    // @polkadot/api asked for V15 through Metadata_metadata_at_version, as it does with a node.
    expect(api.runtimeMetadata.version).toBe(15);
    served = new View(api.registry as unknown as TypeRegistry, api.runtimeMetadata.asV15);
  });
  afterAll(async () => {
    await api?.disconnect();
    await rpc?.close();
  });

  it("calls: same pallet and call indices, argument names and types", () => {
    for (const [pallet, call] of MARKET_CALLS) {
      const expected = mainnet.variant(pallet, "calls", call);
      expect(expected, `${pallet}.${call} on mainnet`).not.toBeNull();
      expect(served.variant(pallet, "calls", call), `${pallet}.${call}`).toEqual(expected);
    }
    expect(served.variant("SubtensorModule", "calls", "set_weights")).toMatchObject({ pallet: 7, index: 0 });
  });

  it("storage: same prefixes, hashers, key and value types, defaults", () => {
    for (const [pallet, item] of MARKET_STORAGE) {
      const expected = mainnet.storage(pallet, item);
      expect(expected, `${pallet}.${item} on mainnet`).not.toBeNull();
      expect(served.storage(pallet, item), `${pallet}.${item}`).toEqual(expected);
    }
  });

  it("events and errors: same indices and field types", () => {
    for (const [pallet, event] of MARKET_EVENTS) {
      const expected = mainnet.variant(pallet, "events", event);
      expect(expected, `${pallet}.${event} on mainnet`).not.toBeNull();
      expect(served.variant(pallet, "events", event), `${pallet}.${event}`).toEqual(expected);
    }
    for (const error of MARKET_ERRORS) {
      const expected = mainnet.variant("SubtensorModule", "errors", error);
      expect(expected, `${error} on mainnet`).not.toBeNull();
      expect(served.variant("SubtensorModule", "errors", error), error).toEqual(expected);
    }
    for (const error of MARKET_COMMITMENT_ERRORS) {
      const expected = mainnet.variant("Commitments", "errors", error);
      expect(expected, `${error} on mainnet`).not.toBeNull();
      expect(served.variant("Commitments", "errors", error), error).toEqual(expected);
    }
  });

  it("runtime APIs and transaction extensions are mainnet's", () => {
    for (const [name, method] of MARKET_RUNTIME_APIS) {
      const expected = mainnet.runtimeApi(name, method);
      expect(expected, `${name}.${method} on mainnet`).not.toBeNull();
      expect(served.runtimeApi(name, method), `${name}.${method}`).toEqual(expected);
    }
    expect(served.extensions()).toEqual(mainnet.extensions());
    expect(served.extensions().map((e) => e.identifier)).toContain("SubtensorTransactionExtension");
  });

  it("the dynamic-tempo items mainnet's capture lacks are added, typed as in subtensor's sources", () => {
    for (const item of LATER_STORAGE) {
      expect(mainnet.storage("SubtensorModule", item), item).toBeNull();
      expect(served.storage("SubtensorModule", item)).toMatchObject({ hashers: ["Identity"] });
    }
    expect(served.storage("SubtensorModule", "ActivityCutoffFactorMilli")?.value.def).toBe("u32");
    expect(served.storage("SubtensorModule", "SubnetEpochIndex")?.value.def).toBe("u64");
    for (const [name, method] of LATER_RUNTIME_APIS) {
      expect(mainnet.runtimeApi(name, method)).toBeNull();
      expect(served.runtimeApi(name, method)?.output.def).toBe("Option<u64>");
    }
  });

  it("MinNonImmuneUids is added as subtensor's lib.rs declares it and reads the devnet's floor", async () => {
    expect(mainnet.storage("SubtensorModule", "MinNonImmuneUids")).toBeNull();
    expect(served.storage("SubtensorModule", "MinNonImmuneUids")).toMatchObject({
      modifier: "Default",
      hashers: ["Identity"],
      key: { def: "u16" },
      value: { def: "u16" },
      fallback: "0x0a00",
    });
    // ImmuneOwnerUidsLimit, the other input of get_neuron_to_prune, is mainnet's own item.
    expect(served.storage("SubtensorModule", "ImmuneOwnerUidsLimit")).toEqual(
      mainnet.storage("SubtensorModule", "ImmuneOwnerUidsLimit"),
    );
    const query = api.query.subtensorModule as unknown as Record<
      string,
      (n: number) => Promise<{ toNumber(): number }>
    >;
    const read = async (item: string) => (await query[item]?.(1))?.toNumber();
    expect(await read("minNonImmuneUids")).toBe(10);
    expect(await read("immuneOwnerUidsLimit")).toBe(1);
    expect(devnet.setMinNonImmuneUids(1, 2).ok).toBe(true);
    expect(devnet.setImmuneOwnerUidsLimit(1, 3).ok).toBe(true);
    expect(await read("minNonImmuneUids")).toBe(2);
    expect(await read("immuneOwnerUidsLimit")).toBe(3);
  });
});

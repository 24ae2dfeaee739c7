import { describe, expect, it } from "vitest";
import { mediaDecoders } from "../../adapters/runtime/decoders.ts";
import { ConfigError, parseConfig } from "../../core/config/schema.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import { taskCatalog } from "./catalog.ts";

/** A stage's `prices` (deploy/stages/<stage>.json) reach the API as MARKET_TASK_PRICES and set what a query holds. */
describe("per-task prices from MARKET_TASK_PRICES", () => {
  const registry = createTaskRegistry(mediaDecoders);

  it("overrides the listed task's price and keeps the others", () => {
    const config = parseConfig({ MARKET_TASK_PRICES: '{"digits":1500}' });
    const catalog = taskCatalog(registry, config.MARKET_TASK_PRICES);
    expect(catalog.get("digits")?.pricePerAnswer).toBe(1500);
    expect(catalog.get("speech")?.pricePerAnswer).toBe(registry.get("speech")?.pricePerAnswer);
    expect(taskCatalog(registry).get("digits")?.pricePerAnswer).toBe(registry.get("digits")?.pricePerAnswer);
  });

  it("refuses a price for a task that does not exist, and prices that are not whole positive micro-credits", () => {
    expect(() => taskCatalog(registry, { digit: 1500 })).toThrow(/unknown tasks: digit/);
    for (const bad of ["{digits:1}", '{"digits":0}', '{"digits":1.5}', "[1]"])
      expect(() => parseConfig({ MARKET_TASK_PRICES: bad }), bad).toThrow(ConfigError);
  });
});

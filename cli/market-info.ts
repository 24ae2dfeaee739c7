import { Command } from "commander";
import type { Schemas } from "../client/client.ts";
import { type CliIo, type ConnectionFlags, connect, intFlag, report, withConnection } from "./settings.ts";

/** `market usage`: the calling key's balance, spend and recent activity. */
export function usageCommand(io: CliIo): Command {
  return withConnection(new Command("usage").description("your key's balance and usage"), "apiKey").action(
    async (o: ConnectionFlags) => report(io, o, await connect(io, o, "apiKey").usage()),
  );
}

/** `market tasks`: the tasks the market serves, with their prices. */
export function tasksCommand(io: CliIo): Command {
  return withConnection(new Command("tasks").description("the tasks you can query, with prices"), "none").action(
    async (o: ConnectionFlags) => report(io, o, await connect(io, o, "none").tasks(), (d) => d.tasks.map(taskRow)),
  );
}

/** `market metagraph`: the subnet's block and experts, as the chain sees them. */
export function metagraphCommand(io: CliIo): Command {
  return withConnection(new Command("metagraph").description("the subnet's block and its experts"), "none").action(
    async (o: ConnectionFlags) =>
      report(io, o, await connect(io, o, "none").metagraph(), (m) =>
        m.experts.length === 0 ? { block: m.block, netuid: m.netuid, experts: "(none)" } : m.experts,
      ),
  );
}

/** `market experts list`: the experts with their weight, incentive and Shapley value. */
export function expertsListCommand(io: CliIo): Command {
  return withConnection(
    new Command("list").description("experts with weight, incentive and Shapley value"),
    "none",
  ).action(async (o: ConnectionFlags) => report(io, o, await connect(io, o, "none").experts(), (d) => d.experts));
}

/** `market experts earnings <uid>`: an expert's credited balance and its daily earnings. */
export function expertEarningsCommand(io: CliIo): Command {
  return withConnection(
    new Command("earnings")
      .description("an expert's balance and daily earnings")
      .argument("<uid>", "the expert's uid", intFlag("<uid>", 0, 65535)),
    "none",
  ).action(async (uid: number, o: ConnectionFlags) =>
    report(io, o, await connect(io, o, "none").earnings(uid), (e) =>
      e.daily.length === 0 ? { uid: e.uid, hotkey: e.hotkey, balance: e.balance, daily: "(none)" } : e.daily,
    ),
  );
}

const taskRow = (t: Schemas["Task"]) => ({ ...t, input: undefined, output: undefined });

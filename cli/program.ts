import { Command, CommanderError } from "commander";
import { jobsCommand } from "./jobs.ts";
import { keysCommand } from "./keys.ts";
import {
  expertEarningsCommand,
  expertsListCommand,
  metagraphCommand,
  tasksCommand,
  usageCommand,
} from "./market-info.ts";
import { type MinerIo, minerCommand } from "./miner.ts";
import { queryCommand } from "./query.ts";
import { receiptsCommand } from "./receipts.ts";
import { ExitWith, SettingError } from "./settings.ts";

export type MarketIo = MinerIo & { readonly fetch?: (input: string, init: RequestInit) => Promise<Response> };

/**
 * The whole `market` command tree. Every command has `--help` (commander's), and client commands take --url /
 * --api-key / --admin-token with environment fallbacks read only when they run.
 */
export function marketProgram(io: MarketIo): Command {
  const program = new Command("market")
    .description("Client and operator CLI of the intelligence market")
    .addHelpText(
      "after",
      "\nSettings: --url (env MARKET_API_URL), --api-key (env MARKET_API_KEY), --admin-token (env MARKET_ADMIN_TOKEN).",
    );
  program.addCommand(keysCommand(io));
  program.addCommand(queryCommand(io));
  program.addCommand(jobsCommand(io));
  program.addCommand(usageCommand(io));
  program.addCommand(receiptsCommand(io));
  program.addCommand(tasksCommand(io));
  program.addCommand(metagraphCommand(io));
  program.addCommand(expertsCommand(io));
  program.addCommand(chainCommand());
  program.addCommand(minerCommand(io));
  forEachCommand(program, (cmd) => {
    cmd.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err }).showHelpAfterError();
  });
  return program;
}

/** Runs the CLI; returns the exit code (0 for `--help`, 2 for a usage error, 1 for a failed command). */
export async function runMarket(args: string[], io: MarketIo): Promise<number> {
  const program = marketProgram(io);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ExitWith) return error.code;
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof SettingError ? 2 : 1;
  }
}

export function forEachCommand(cmd: Command, visit: (cmd: Command, path: string[]) => void, path: string[] = []): void {
  visit(cmd, path);
  for (const sub of cmd.commands) forEachCommand(sub, visit, [...path, sub.name()]);
}

/** `market experts`: list (API) plus the operator tools that manage local expert files. */
function expertsCommand(io: MarketIo): Command {
  const experts = new Command("experts").description("the market's experts; publish local expert models");
  experts.addCommand(expertsListCommand(io));
  experts.addCommand(expertEarningsCommand(io));
  experts.addCommand(
    legacy(
      "add",
      "gone: a miner's model goes in with its own wallet (`market miner commit`); prints how",
      "--task <digits> --model <file.onnx> [--id <name>]",
      async (args) => (await import("./experts-group.ts")).run(["add", ...args]),
    ),
  );
  experts.addCommand(
    legacy(
      "publish",
      "upload expert models and commit them on chain",
      "[--from <experts dir>] [--only <id,id>]",
      async (args) => (await import("./experts-group.ts")).run(["publish", ...args]),
    ),
  );
  experts.addCommand(
    legacy("directory", "the published experts directory", "", async () =>
      (await import("./experts-group.ts")).run(["directory"]),
    ),
  );
  return experts;
}

/** `market chain`: call encoding and timelock known-answer tools. */
function chainCommand(): Command {
  const chain = new Command("chain").description("chain tools: set_weights call encoding, timelock encrypt/decrypt");
  for (const [name, summary, usage] of [
    [
      "encode-set-weights",
      "SCALE-encode a set_weights call",
      "--netuid <n> --uids <a,b> --weights <a,b> --version-key <n>",
    ],
    [
      "tlock-encrypt",
      "timelock-encrypt a payload for a drand round",
      "--round R --payload HEX [--esk HEX32 --sigma HEX32 --nonce HEX12] [--public-key HEX96]",
    ],
    ["tlock-decrypt", "decrypt a timelock ciphertext", "--signature HEX48 --ciphertext HEX"],
  ] as const) {
    chain.addCommand(legacy(name, summary, usage, async (args) => (await import("./chain.ts")).run([name, ...args])));
  }
  return chain;
}

/**
 * A command whose flags are parsed by its own module (node:util parseArgs): commander gives it `--help` and hands
 * every other argument through unchanged.
 */
function legacy(name: string, summary: string, usage: string, run: (args: string[]) => Promise<number>): Command {
  return new Command(name)
    .description(summary)
    .usage(usage)
    .helpOption("-h, --help", "show this command's usage")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_o: unknown, cmd: Command) => {
      const code = await run(cmd.args);
      if (code !== 0) throw new ExitWith(code);
    });
}

import { Command } from "commander";
import { readTaskInput } from "./input-file.ts";
import {
  type CliIo,
  type ConnectionFlags,
  connect,
  intFlag,
  report,
  SettingError,
  withConnection,
} from "./settings.ts";

interface QueryFlags extends ConnectionFlags {
  readonly k?: number;
  readonly wait?: number;
  readonly async?: boolean;
  readonly idempotencyKey?: string;
}

/** `market query <task> <file>`: one paid query; prints the answer, or the queued job to poll with `jobs wait`. */
export function queryCommand(io: CliIo): Command {
  return withConnection(
    new Command("query")
      .description("send one paid query: a PNG (digits), a WAV (speech) or a JSON file holding the task input")
      .argument("<task>", "task id (see `market tasks`)")
      .argument("<file>", "input file: .png, .wav or JSON"),
    "apiKey",
  )
    .option("--k <n>", "how many experts answer", intFlag("--k", 1, 8))
    .option("--wait <seconds>", "wait this long for the answer before returning the job", intFlag("--wait", 1, 60))
    .option("--async", "return the queued job at once (Prefer: respond-async)")
    .option("--idempotency-key <k>", "makes a retried query count once")
    .action(async (task: string, file: string, o: QueryFlags) => {
      if (o.async && o.wait !== undefined) throw new SettingError("--async and --wait exclude each other");
      const input = await readTaskInput(file);
      const waitSeconds = o.async ? 0 : o.wait;
      const res = await connect(io, o, "apiKey").infer(task, input, {
        ...(o.k !== undefined ? { k: o.k } : {}),
        ...(waitSeconds !== undefined ? { waitSeconds } : {}),
        ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
      });
      report(io, o, res);
    });
}

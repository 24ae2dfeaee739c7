/**
 * `npm run market -- <command> [flags]` (and the `market` bin): one entry for every client and operator command.
 * The tree is built in cli/program.ts; `market --help` lists it.
 */
import { processIo } from "./miner.ts";
import { runMarket } from "./program.ts";

runMarket(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});

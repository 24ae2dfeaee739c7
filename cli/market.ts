/**
 * `npm run market -- <group> <command> [flags]`: one entry for every operator and client command.
 * Each group lives in its own module exporting `run(args): Promise<number>` (the exit code).
 */
const groups: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  chain: () => import("./chain.ts"),
  keys: () => import("./keys.ts"),
  query: () => import("./query.ts"),
  experts: () => import("./experts-group.ts"),
  miner: () => import("./miner.ts"),
};

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  const load = group === undefined ? undefined : groups[group];
  if (!load) {
    process.stderr.write(`usage: npm run market -- <${Object.keys(groups).join("|")}> ...\n`);
    return 2;
  }
  const mod = await load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

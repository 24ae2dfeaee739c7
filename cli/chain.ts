/** `npm run market -- chain <command>`: chain tools (call encoding, timelock known-answer commands). */
const commands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  "encode-set-weights": () => import("./chain-encode.ts"),
  "tlock-encrypt": () => import("./chain-tlock.ts").then((m) => ({ run: m.runEncrypt })),
  "tlock-decrypt": () => import("./chain-tlock.ts").then((m) => ({ run: m.runDecrypt })),
};

export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const load = name === undefined ? undefined : commands[name];
  if (!load) {
    process.stderr.write(`usage: npm run market -- chain <${Object.keys(commands).join("|")}> [flags]\n`);
    return 2;
  }
  return (await load()).run(rest);
}

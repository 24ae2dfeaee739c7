import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/**
 * One market per data folder. The emulator's LevelDB, the chain snapshot and the admin token cannot be shared by two
 * running markets: a second one would die late and obscurely (dynalite's "Database is closed"). So the folder holds
 * `market.lock` with the owner's pid, created exclusively; a start that finds it held by a live process fails at once
 * naming the folder and the pid. A lock whose process is gone (a crash, SIGKILL) is stale and taken over.
 */
export const LOCK_FILE = "market.lock";

const LockRecord = z.object({ pid: z.number().int().positive(), startedAt: z.string().optional() });

export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data folder ${dataDir} is in use by another market (pid ${pid}); stop that one first, ` +
        `or set MARKET_DATA_DIR to another folder (lock file ${join(dataDir, LOCK_FILE)})`,
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock if it is still ours; safe to call more than once, and from an `exit` handler. */
  release(): void;
}

/** Is `pid` a running process that could be a market (node)? Pid reuse by another program counts as stale. */
function holderAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else: treat as alive, never steal a lock we cannot judge.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline === "" || /node|tsx/.test(cmdline);
  } catch {
    return true; // no /proc (macOS): the pid check alone decides
  }
}

function readHolder(file: string): number | null {
  try {
    const parsed = LockRecord.safeParse(JSON.parse(readFileSync(file, "utf8")));
    return parsed.success ? parsed.data.pid : null;
  } catch {
    return null; // unreadable or half-written: judged stale below
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  const record = `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`;
  // Written aside, then hard-linked into place: the lock appears with its content at once (link fails if it exists),
  // so a concurrent starter never reads a half-written lock and takes it for stale.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, record, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = readHolder(file);
      if (holder !== null && holder !== process.pid && holderAlive(holder))
        throw new DataDirInUseError(dataDir, holder);
      if (attempt >= 2) throw new Error(`cannot take the lock ${file}`);
      // Stale: its market is gone (crash, SIGKILL). Remove it and try again.
      try {
        unlinkSync(file);
      } catch {
        // already removed by a concurrent starter
      }
    }
  } finally {
    unlinkSync(temp);
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      if (readHolder(file) === process.pid) unlinkSync(file);
    },
  };
}

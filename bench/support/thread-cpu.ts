import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of this process split by who spent it, from Linux's /proc (issue 17: where a paid query's time goes when
 * everything shares two cores). `main`: this process's main thread (API, settler, in-process workers, and the
 * bench's own clients); `emulators`: the emulators' thread (fauxqs, dynalite; stacks/ephemeral/emulators.ts);
 * `helpers`: every other thread of this process (V8's garbage collection and compilers, libuv's pool, onnxruntime);
 * `workers`: child processes (the workers of `--workers child`), all their threads.
 */
export interface CpuParts {
  readonly main: number;
  readonly emulators: number;
  readonly helpers: number;
  readonly workers: number;
}

/** One reading: CPU milliseconds by thread or child process, with the part each belongs to. */
export type CpuReading = ReadonlyMap<string, { readonly part: keyof CpuParts; readonly ms: number }>;

/** Linux's clock tick for /proc times (USER_HZ): 100 on every mainstream kernel build. */
const TICK_MS = 10;

/**
 * utime + stime of a /proc stat line, in ms. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from its last ")": utime and stime are fields 14 and 15 of the line.
 */
export function statCpuMs(line: string): number | null {
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) * TICK_MS : null;
}

const cpuOf = (path: string): number | null => {
  try {
    return statCpuMs(readFileSync(path, "utf8"));
  } catch {
    return null; // the thread or process ended between the listing and the read
  }
};

/** Reads every thread of this process and every child process; null where /proc is not there (not Linux). */
export function readCpu(emulatorThreadId: number | undefined): CpuReading | null {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return null;
  }
  const reading = new Map<string, { part: keyof CpuParts; ms: number }>();
  const children = new Set<string>();
  for (const tid of tids) {
    const ms = cpuOf(`/proc/self/task/${tid}/stat`);
    if (ms === null) continue;
    const part = Number(tid) === process.pid ? "main" : Number(tid) === emulatorThreadId ? "emulators" : "helpers";
    reading.set(`thread ${tid}`, { part, ms });
    try {
      for (const pid of readFileSync(`/proc/self/task/${tid}/children`, "utf8").split(" ")) {
        if (/^\d+$/.test(pid)) children.add(pid);
      }
    } catch {
      // no children file (older kernels): child processes are then not counted
    }
  }
  for (const pid of children) {
    const ms = cpuOf(`/proc/${pid}/stat`);
    if (ms !== null) reading.set(`process ${pid}`, { part: "workers", ms });
  }
  return reading;
}

/** CPU ms spent by each part between two readings (a thread or child that started in between counts from zero). */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuParts {
  const parts = { main: 0, emulators: 0, helpers: 0, workers: 0 };
  for (const [id, { part, ms }] of after) parts[part] += Math.max(0, ms - (before.get(id)?.ms ?? 0));
  return parts;
}

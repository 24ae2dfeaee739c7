import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "./data-lock.ts";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "market-lock-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A pid that existed and is gone now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("data folder lock", () => {
  it("is taken with this pid, private to the user, and released", () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    expect(statSync(lock.file).mode & 0o777).toBe(0o600);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lock.release(); // twice is harmless
  });

  it("refuses a folder held by a live market, naming the folder and its pid", () => {
    const dir = freshDir();
    // The vitest runner itself is a live node process: it stands in for a running market.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid }));
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect(String((error as Error).message)).toContain(dir);
    expect(String((error as Error).message)).toContain(`pid ${process.ppid}`);
    // The holder's lock is left as it was.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.ppid);
  });

  it("takes over a stale lock (its process is gone) and a garbled one", () => {
    const dir = freshDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid() }));
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lock.file, "utf8")).pid).toBe(process.pid);
    lock.release();
    writeFileSync(join(dir, LOCK_FILE), "{not json");
    lockDataDir(dir).release();
  });

  it("does not remove a lock that another market took after ours was released", () => {
    const dir = freshDir();
    const lock = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid }));
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });
});

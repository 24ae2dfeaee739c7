import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import type { ApiResult, Job, MarketClient } from "../client/client.ts";
import { collectPages, type PageFlags, pageOptions } from "./pages.ts";
import { type CliIo, type ConnectionFlags, connect, ExitWith, intFlag, report, withConnection } from "./settings.ts";

const FINAL: ReadonlySet<Job["status"]> = new Set(["succeeded", "failed", "canceled", "expired"]);

/** `market jobs ...`: a query's job by id (get, wait, cancel) and the key's jobs (list). */
export function jobsCommand(io: CliIo): Command {
  const jobs = new Command("jobs").description("get, wait for, cancel or list your queries' jobs");
  const client = (o: ConnectionFlags) => connect(io, o, "apiKey");

  withConnection(
    jobs.command("get").description("a job's status, and its answer once done").argument("<id>"),
    "apiKey",
  ).action(async (id: string, o: ConnectionFlags) => report(io, o, await client(o).job(id)));
  withConnection(
    jobs.command("wait").description("poll a job until it ends; exit 1 unless it succeeded").argument("<id>"),
    "apiKey",
  )
    .option("--timeout <seconds>", "give up after this long (default 120)", intFlag("--timeout", 1, 3600), 120)
    .action(async (id: string, o: ConnectionFlags & { timeout: number }) => {
      const res = await waitForJob(client(o), id, o.timeout * 1000);
      report(io, o, res);
      if (res.ok && res.data.status !== "succeeded") throw new ExitWith(1);
    });
  withConnection(
    jobs.command("cancel").description("cancel a queued job (its hold is released)").argument("<id>"),
    "apiKey",
  ).action(async (id: string, o: ConnectionFlags) => report(io, o, await client(o).cancel(id)));
  pageOptions(withConnection(jobs.command("list").description("your key's jobs, a page at a time"), "apiKey")).action(
    async (o: ConnectionFlags & PageFlags) => {
      const c = client(o);
      report(io, o, await collectPages(o, (page) => c.listJobs(page)), (page) => page.data.map(jobRow));
    },
  );
  return jobs;
}

/** Polls with growing pauses (250 ms to 2 s) until the job's status is final or the time is up. */
export async function waitForJob(client: MarketClient, id: string, timeoutMs: number): Promise<ApiResult<Job>> {
  const deadline = Date.now() + timeoutMs;
  let pause = 250;
  for (;;) {
    const res = await client.job(id);
    if (!res.ok || FINAL.has(res.data.status)) return res;
    if (Date.now() + pause > deadline)
      throw new Error(`job ${id} still ${res.data.status} after ${timeoutMs / 1000} s`);
    await sleep(pause);
    pause = Math.min(2000, pause * 2);
  }
}

const jobRow = (j: Job) => ({ id: j.id, task: j.task, status: j.status, cost: j.cost, createdAt: j.createdAt });

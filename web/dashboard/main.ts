import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { short } from "../../functions/api/dashboard/format.ts";

/** How often the page refreshes its tables and charts (skipped while the tab is hidden). */
const POLL_MS = 5000;
/** Colour-blind-safe palette (Okabe-Ito), dark enough on white. */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B"];

interface History {
  epochs: number[];
  experts: { uid: number; name: string; shapley: (number | null)[]; weight: (number | null)[] }[];
}
interface Market {
  queriesPerMinute: { minute: string; queries: number }[];
}
interface ChartData {
  history: History;
  market: Market;
}

const charts = new Map<string, uPlot>();

function chartOptions(el: HTMLElement, series: uPlot.Series[], time: boolean): uPlot.Options {
  return {
    width: Math.max(280, el.clientWidth || 480),
    height: 220,
    scales: { x: { time } },
    // Epochs are whole numbers: no ticks between them.
    axes: [time ? { stroke: "#222" } : { stroke: "#222", incrs: [1, 2, 5, 10, 20, 50] }, { stroke: "#222" }],
    legend: { live: false },
    series: [{ label: time ? "minute" : "epoch" }, ...series],
  };
}

function draw(name: string, data: uPlot.AlignedData, series: uPlot.Series[], time = false): void {
  const el = document.querySelector<HTMLElement>(`[data-chart="${name}"]`);
  if (!el) return;
  const existing = charts.get(name);
  if (existing && existing.series.length === series.length + 1) {
    existing.setData(data);
    return;
  }
  existing?.destroy();
  charts.set(name, new uPlot(chartOptions(el, series, time), data, el));
}

function drawCharts(d: ChartData): void {
  const lines = (pick: (e: History["experts"][number]) => (number | null)[]) => d.history.experts.map((e) => pick(e));
  const series = d.history.experts.map((e, i) => ({
    label: `${e.uid} ${e.name}`,
    stroke: PALETTE[i % PALETTE.length] ?? "#000",
    width: 2,
    spanGaps: true,
  }));
  draw("shapley", [d.history.epochs, ...lines((e) => e.shapley)] as uPlot.AlignedData, series);
  draw("weight", [d.history.epochs, ...lines((e) => e.weight)] as uPlot.AlignedData, series);
  const qpm = d.market.queriesPerMinute;
  draw(
    "qpm",
    [qpm.map((q) => Date.parse(q.minute) / 1000), qpm.map((q) => q.queries)],
    [{ label: "queries", stroke: PALETTE[0], fill: "rgba(0,114,178,0.15)", width: 2 }],
    true,
  );
}

function readChartData(doc: Document): ChartData | null {
  const text = doc.getElementById("dashboard-data")?.textContent;
  return text ? (JSON.parse(text) as ChartData) : null;
}

/** Replaces every live table with the server's newer rendering (one renderer: the server's). */
async function refresh(): Promise<void> {
  if (document.hidden) return;
  const res = await fetch("/", { headers: { accept: "text/html" } });
  if (!res.ok) throw new Error(`GET / answered ${res.status}`);
  const doc = new DOMParser().parseFromString(await res.text(), "text/html");
  for (const fresh of Array.from(doc.querySelectorAll<HTMLElement>("[data-live]"))) {
    const current = document.querySelector(`[data-live="${fresh.dataset.live}"]`);
    if (current) current.replaceWith(document.importNode(fresh, true));
  }
  const data = readChartData(doc);
  if (data) drawCharts(data);
  setStatus(`updated ${new Date().toLocaleTimeString()}`);
}

function setStatus(text: string): void {
  const el = document.getElementById("live-status");
  if (el) el.textContent = text;
}

// ---- client view: the key stays in memory, sent only as a bearer token to this origin ----

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function table(caption: string, head: string[], rows: (string | Node)[][], id: string): HTMLTableElement {
  const t = el("table", undefined, { id });
  t.append(el("caption", caption));
  const tr = el("tr");
  for (const h of head) tr.append(el("th", h, { scope: "col" }));
  t.append(el("thead"));
  t.tHead?.append(tr);
  const body = el("tbody");
  for (const r of rows) {
    const row = el("tr");
    for (const cell of r) {
      const td = el("td");
      td.append(cell);
      row.append(td);
    }
    body.append(row);
  }
  t.append(body);
  return t;
}

interface Usage {
  balance: number;
  held: number;
  spent: number;
  openHolds: { holdId: string; amount: number; deadline: number; status: string }[];
  recent: { entryId: string; kind: string; amount: number; at: number; holdId?: string }[];
}
interface Job {
  id: string;
  status: string;
  task: string;
  cost?: number;
  output?: unknown;
  receipt?: { signedBy: string };
}

async function problemText(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { detail?: string } | null;
  return `${res.status}: ${body?.detail ?? res.statusText}`;
}

async function verify(job: Job, out: HTMLElement): Promise<void> {
  out.textContent = "checking…";
  const res = await fetch("/v1/receipts/verify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ receipt: job.receipt, output: job.output }),
  });
  if (!res.ok) {
    out.textContent = `error ${await problemText(res)}`;
    return;
  }
  const verdict = (await res.json()) as { valid: boolean; reason?: string; gateway: string };
  out.textContent = verdict.valid
    ? `valid: signed by the gateway ${short(verdict.gateway)}`
    : `invalid: ${verdict.reason ?? "unknown reason"}`;
  out.className = verdict.valid ? "verdict ok" : "verdict bad";
}

async function showClient(key: string): Promise<void> {
  const view = document.getElementById("client-view");
  if (!view) return;
  view.hidden = false;
  view.replaceChildren(el("p", "Loading…"));
  const auth = { authorization: `Bearer ${key}` };
  const res = await fetch("/v1/usage", { headers: auth });
  if (!res.ok) {
    view.replaceChildren(el("p", `Could not sign in (${await problemText(res)})`, { role: "alert" }));
    return;
  }
  const usage = (await res.json()) as Usage;
  const figures = el("dl", undefined, { class: "figures", id: "client-figures" });
  for (const [name, value, field] of [
    ["Balance (µcr)", usage.balance, "balance"],
    ["Held (µcr)", usage.held, "held"],
    ["Spent (µcr)", usage.spent, "spent"],
  ] as const) {
    const div = el("div");
    div.append(el("dt", name), el("dd", String(value), { "data-field": field }));
    figures.append(div);
  }
  const holds = table(
    "Open holds",
    ["Hold", "Amount (µcr)", "Deadline", "Status"],
    usage.openHolds.map((h) => [h.holdId, String(h.amount), new Date(h.deadline).toISOString(), h.status]),
    "client-holds",
  );
  const charges = usage.recent.filter((e) => e.kind === "capture");
  const chargesTable = table(
    "Charges",
    ["Query", "Amount (µcr)", "At"],
    charges.map((e) => [e.holdId ?? e.entryId, String(e.amount), new Date(e.at).toISOString()]),
    "client-charges",
  );
  const jobs = await Promise.all(
    charges
      .slice(0, 10)
      .flatMap((e) =>
        e.holdId
          ? [fetch(`/v1/jobs/${encodeURIComponent(e.holdId)}`, { headers: auth }).then((r) => (r.ok ? r.json() : null))]
          : [],
      ),
  );
  const rows = (jobs.filter(Boolean) as Job[]).map((job) => {
    const verdict = el("output", "", { class: "verdict", "aria-live": "polite" });
    const button = el("button", "Verify", { type: "button", "data-job": job.id });
    button.disabled = !job.receipt;
    button.addEventListener("click", () => {
      verify(job, verdict).catch((error: unknown) => {
        verdict.textContent = `error: ${String(error)}`;
      });
    });
    const cell = el("span");
    cell.append(button, " ", verdict);
    return [job.id, job.task, job.status, String(job.cost ?? 0), job.receipt ? short(job.receipt.signedBy) : "–", cell];
  });
  const queries = table(
    "Recent queries and their receipts",
    ["Query", "Task", "Status", "Cost (µcr)", "Receipt signed by", "Check"],
    rows,
    "client-queries",
  );
  view.replaceChildren(figures, holds, chargesTable, queries);
}

function start(): void {
  const initial = readChartData(document);
  if (initial) drawCharts(initial);
  const header = document.querySelector("header");
  header?.append(el("p", "live", { id: "live-status", class: "hint" }));
  window.setInterval(() => {
    refresh().catch((error: unknown) => setStatus(`refresh failed: ${String(error)}`));
  }, POLL_MS);
  const form = document.getElementById("client-form") as HTMLFormElement | null;
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = (form.elements.namedItem("key") as HTMLInputElement).value.trim();
    showClient(key).catch((error: unknown) => {
      document.getElementById("client-view")?.replaceChildren(el("p", `error: ${String(error)}`, { role: "alert" }));
    });
  });
}

start();

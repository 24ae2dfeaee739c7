/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { ms, percent, ratio, score, short, tao } from "./format.ts";
import type { DashboardMarket } from "./market.ts";
import type { DashboardSnapshot } from "./snapshot.ts";

type HistoryView = Awaited<ReturnType<typeof import("./history.ts").dashboardHistory>>;

export interface PageData {
  readonly snapshot: DashboardSnapshot;
  readonly market: DashboardMarket;
  readonly history: HistoryView;
}

const Section = (props: { id: string; title: string; children: Child }) => (
  <section id={props.id} aria-labelledby={`${props.id}-title`}>
    <h2 id={`${props.id}-title`}>{props.title}</h2>
    {props.children}
  </section>
);

/** A wide table's frame: focusable, so a keyboard can scroll it sideways. */
const Scroll = (props: { label: string; children: Child }) => (
  <section class="scroll" tabindex={0} aria-label={props.label}>
    {props.children}
  </section>
);

const Metagraph = ({ s }: { s: DashboardSnapshot }) => (
  <Scroll label="Metagraph table">
    <table id="metagraph-table" data-live="metagraph">
      <thead>
        <tr>
          <th scope="col">UID</th>
          <th scope="col">Name</th>
          <th scope="col">Hotkey</th>
          <th scope="col">Stake (τ)</th>
          <th scope="col">Validator permit</th>
          <th scope="col">Incentive</th>
          <th scope="col">Dividends</th>
          <th scope="col">Emission (τ)</th>
          <th scope="col">Trust</th>
          <th scope="col">Last update</th>
        </tr>
      </thead>
      <tbody>
        {s.neurons.map((n) => (
          <tr data-uid={n.uid}>
            <td data-field="uid">{n.uid}</td>
            <td data-field="name">{n.name || (n.validatorPermit ? "validator" : "")}</td>
            <td data-field="hotkey">
              <code>{n.hotkey}</code>
            </td>
            <td data-field="stake" class="num">
              {tao(n.stake)}
            </td>
            <td data-field="validatorPermit">{n.validatorPermit ? "yes" : "no"}</td>
            <td data-field="incentive" class="num">
              {ratio(n.incentive)}
            </td>
            <td data-field="dividends" class="num">
              {ratio(n.dividends)}
            </td>
            <td data-field="emission" class="num">
              {tao(n.emission)}
            </td>
            <td data-field="trust" class="num">
              {ratio(n.trust)}
            </td>
            <td data-field="lastUpdate" class="num">
              {n.lastUpdate}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Scroll>
);

const Experts = ({ d }: { d: PageData }) => {
  const last = d.history.epochs.length - 1;
  const market = new Map(d.market.experts.map((e) => [e.uid, e]));
  return (
    <>
      <div class="charts">
        <figure>
          <div class="chart" data-chart="shapley" aria-hidden="true" />
          <figcaption>Shapley value per epoch</figcaption>
        </figure>
        <figure>
          <div class="chart" data-chart="weight" aria-hidden="true" />
          <figcaption>Weight set per epoch</figcaption>
        </figure>
      </div>
      <Scroll label="Experts table">
        <table id="experts-table" data-live="experts">
          <thead>
            <tr>
              <th scope="col">UID</th>
              <th scope="col">Name</th>
              <th scope="col">Task</th>
              <th scope="col">Shapley (epoch {d.history.epochs[last] ?? "–"})</th>
              <th scope="col">Weight</th>
              <th scope="col">Fee shares (µcr)</th>
              <th scope="col">Queries served</th>
              <th scope="col">Accuracy</th>
            </tr>
          </thead>
          <tbody>
            {d.history.experts.map((e) => {
              const m = market.get(e.uid);
              return (
                <tr data-uid={e.uid}>
                  <td>{e.uid}</td>
                  <td>{e.name}</td>
                  <td>{e.task}</td>
                  <td class="num" data-field="shapley">
                    {score(e.shapley[last] ?? null)}
                  </td>
                  <td class="num" data-field="weight">
                    {e.weight[last] === null || e.weight[last] === undefined ? "–" : ratio(e.weight[last])}
                  </td>
                  <td class="num" data-field="feeBalance">
                    {m?.feeBalance ?? 0}
                  </td>
                  <td class="num" data-field="answers">
                    {m?.answers ?? 0}
                  </td>
                  <td class="num" data-field="accuracy">
                    {m?.accuracy === null || m?.accuracy === undefined ? "–" : percent(m.accuracy)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Scroll>
    </>
  );
};

/** Cell colour: the weight as blue intensity; text flips to white where the background is dark enough. */
const heat = (w: number) => {
  const light = Math.round(97 - w * 62);
  return `background:hsl(215 70% ${light}%);color:${light < 60 ? "#fff" : "#111"}`;
};

const Weights = ({ s }: { s: DashboardSnapshot }) => {
  const w = s.weights;
  const hotkey = (uid: number) => s.neurons[uid]?.hotkey ?? "";
  const name = (uid: number) => s.neurons[uid]?.name || short(hotkey(uid));
  return (
    <Scroll label="Weights matrix">
      <table id="weights-table" class="heatmap" data-live="weights">
        <caption>
          Rows: validators; columns: experts. Each cell is the validator's normalised weight;{" "}
          <span class="clipped-key">outlined ✂</span> cells are above the expert's consensus and Yuma clips them to it.
        </caption>
        <thead>
          <tr>
            <th scope="col">Validator \ expert</th>
            {w.columns.map((uid) => (
              <th scope="col" title={hotkey(uid)}>
                {uid} {name(uid)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {w.rows.map((row, i) => (
            <tr data-uid={row}>
              <th scope="row" title={hotkey(row)}>
                {row} {short(hotkey(row))}
              </th>
              {w.columns.map((col, j) => {
                const value = w.weights[i]?.[j] ?? 0;
                const clipped = w.clipped[i]?.[j] === true;
                return (
                  <td
                    class={clipped ? "num clipped" : "num"}
                    style={heat(value)}
                    data-col={col}
                    aria-label={`validator ${row}, expert ${col}: ${ratio(value)}${clipped ? ", clipped to consensus" : ""}`}
                  >
                    {ratio(value)}
                    {clipped ? " ✂" : ""}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-row="consensus">
            <th scope="row">Consensus</th>
            {w.consensus.map((c) => (
              <td class="num">{ratio(c)}</td>
            ))}
          </tr>
          <tr data-row="trust">
            <th scope="row">Trust</th>
            {w.trust.map((t) => (
              <td class="num">{ratio(t)}</td>
            ))}
          </tr>
        </tfoot>
      </table>
    </Scroll>
  );
};

const Validators = ({ s }: { s: DashboardSnapshot }) => (
  <>
    <Scroll label="Validators table">
      <table id="validators-table" data-live="validators">
        <thead>
          <tr>
            <th scope="col">UID</th>
            <th scope="col">Hotkey</th>
            <th scope="col">Stake (τ)</th>
            <th scope="col">Permit</th>
            <th scope="col">Validator trust</th>
            <th scope="col">Dividends</th>
            <th scope="col">Last weights (block)</th>
          </tr>
        </thead>
        <tbody>
          {s.validators.map((v) => (
            <tr data-uid={v.uid}>
              <td>{v.uid}</td>
              <td>
                <code>{v.hotkey}</code>
              </td>
              <td class="num">{tao(v.stake)}</td>
              <td>{v.validatorPermit ? "yes" : "no"}</td>
              <td class="num">{ratio(v.validatorTrust)}</td>
              <td class="num">{ratio(v.dividends)}</td>
              <td class="num">{v.lastWeightsBlock}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
    <h3>This market's validator: recent epochs</h3>
    <Scroll label="Validator epochs">
      <table id="epochs-table" data-live="epochs">
        <thead>
          <tr>
            <th scope="col">Epoch</th>
            <th scope="col">Path</th>
            <th scope="col">Status</th>
            <th scope="col">Block</th>
            <th scope="col">Failure or note</th>
          </tr>
        </thead>
        <tbody>
          {s.submissions.map((x) => (
            <tr data-epoch={x.epoch}>
              <td class="num">{x.epoch}</td>
              <td>{x.path}</td>
              <td data-field="status" class={`status-${x.status}`}>
                {x.status}
              </td>
              <td class="num">{x.block ?? "–"}</td>
              <td>{x.error ?? x.note ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  </>
);

const Market = ({ m }: { m: DashboardMarket }) => (
  <>
    <dl id="latency" data-live="latency" class="figures">
      <div>
        <dt>Latency p50</dt>
        <dd data-field="p50">{ms(m.latencyMs.p50)}</dd>
      </div>
      <div>
        <dt>p90</dt>
        <dd data-field="p90">{ms(m.latencyMs.p90)}</dd>
      </div>
      <div>
        <dt>p99</dt>
        <dd data-field="p99">{ms(m.latencyMs.p99)}</dd>
      </div>
      <div>
        <dt>Queries sampled</dt>
        <dd data-field="samples">{m.latencyMs.samples}</dd>
      </div>
    </dl>
    <figure>
      <div class="chart" data-chart="qpm" aria-hidden="true" />
      <figcaption>Queries per minute, last {m.windowMinutes} minutes</figcaption>
    </figure>
    <Scroll label="Routing table">
      <table id="market-table" data-live="market">
        <thead>
          <tr>
            <th scope="col">UID</th>
            <th scope="col">Name</th>
            <th scope="col">Answers</th>
            <th scope="col">Routing share</th>
            <th scope="col">Fee shares in window (µcr)</th>
            <th scope="col">Accuracy on validation items</th>
            <th scope="col">Latency p50</th>
          </tr>
        </thead>
        <tbody>
          {m.experts.map((e) => (
            <tr data-uid={e.uid}>
              <td>{e.uid}</td>
              <td>{e.name}</td>
              <td class="num" data-field="answers">
                {e.answers}
              </td>
              <td class="num" data-field="routingShare">
                {percent(e.routingShare)}
              </td>
              <td class="num">{e.feeShares}</td>
              <td class="num">{e.accuracy === null ? "–" : percent(e.accuracy)}</td>
              <td class="num">{ms(e.latencyP50)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  </>
);

const Client = () => (
  <>
    <form id="client-form" autocomplete="off">
      <label for="client-key">API key</label>
      <input id="client-key" name="key" type="password" placeholder="mk_live_…" required />
      <button type="submit">Sign in</button>
      <p class="hint">The key stays in this page: it is sent only to this API, as a bearer token.</p>
    </form>
    <noscript>
      <p>The client view needs JavaScript (your key is sent as a header, never in a link).</p>
    </noscript>
    <div id="client-view" hidden aria-live="polite" />
  </>
);

export const DashboardPage = ({ d }: { d: PageData }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>Intelligence market · subnet {d.snapshot.netuid}</title>
      <link rel="stylesheet" href="/assets/dashboard.css" />
      <script type="module" src="/assets/dashboard.js" />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>Intelligence market</h1>
        <p id="chain-status" data-live="chain-status">
          Subnet {d.snapshot.netuid} · block <span data-field="block">{d.snapshot.block}</span>
        </p>
        <nav aria-label="Views">
          <a href="#metagraph">Metagraph</a>
          <a href="#experts">Experts</a>
          <a href="#weights">Weights</a>
          <a href="#validators">Validators</a>
          <a href="#market">Market</a>
          <a href="#client">Client</a>
          <a href="/docs">API docs</a>
        </nav>
      </header>
      <main id="main">
        <Section id="metagraph" title="Metagraph">
          <Metagraph s={d.snapshot} />
        </Section>
        <Section id="experts" title="Experts">
          <Experts d={d} />
        </Section>
        <Section id="weights" title="Weights matrix">
          <Weights s={d.snapshot} />
        </Section>
        <Section id="validators" title="Validators">
          <Validators s={d.snapshot} />
        </Section>
        <Section id="market" title="Market">
          <Market m={d.market} />
        </Section>
        <Section id="client" title="Your account">
          <Client />
        </Section>
      </main>
      {/* The charts' first data, so they draw without waiting for a poll ("<" escaped: it cannot end the script). */}
      <script
        id="dashboard-data"
        type="application/json"
        dangerouslySetInnerHTML={{
          __html: JSON.stringify({ history: d.history, market: d.market }).replace(/</g, "\\u003c"),
        }}
      />
    </body>
  </html>
);

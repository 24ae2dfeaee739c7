/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be a HELP, a TYPE
 * or a sample `name{label="value",...} number`; samples must belong to a declared family.
 */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromText {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly PromSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const SUFFIXES = ["_bucket", "_sum", "_count", ""];

export function parsePrometheusText(text: string): PromText {
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`));
    if (type?.[1] && type[2]) {
      types.set(type[1], type[2]);
      continue;
    }
    if (new RegExp(`^# HELP ${NAME} `).test(line)) continue;
    const m = line.match(SAMPLE);
    if (!m?.[1] || m[3] === undefined) throw new Error(`not a Prometheus text line: ${line}`);
    const value = m[3] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== "NaN") throw new Error(`bad value in: ${line}`);
    const name = m[1];
    if (!SUFFIXES.some((s) => name.endsWith(s) && types.has(name.slice(0, name.length - s.length))))
      throw new Error(`sample of an undeclared family: ${line}`);
    samples.push({ name, labels: parseLabels(m[2] ?? "", line), value });
  }
  return { types, samples };
}

function parseLabels(body: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const m = LABEL.exec(body);
    if (!m?.[1] || m[2] === undefined) throw new Error(`bad labels in: ${line}`);
    labels[m[1]] = m[2];
  }
  return labels;
}

/** The value of the one sample with this name and (at least) these labels. */
export function sampleValue(parsed: PromText, name: string, labels: Record<string, string> = {}): number | undefined {
  return parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

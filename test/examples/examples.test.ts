// examples/grafana-dashboard.json and examples/prometheus-rules.yaml only read metrics that
// `spend-alerts run` exports: a real daemon with the cost exporter on, against the fake Langfuse,
// says which on /metrics. (promtool checks and unit-tests the rules in .ci/run.)
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { freePort, isEvaluation, REPO, spend, startCli, type CliProcess } from '../support/cli-process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver.js';
import { exposedSeriesNames, metricNames } from '../support/promql.js';

const DASHBOARD = join(REPO, 'examples/grafana-dashboard.json');
const RULES = join(REPO, 'examples/prometheus-rules.yaml');
/** Series Prometheus makes itself for every scrape target rather than reading them from /metrics. */
const PER_TARGET_SERIES = new Set(['up']);

interface Query {
  /** where in the file */
  readonly at: string;
  readonly expr: string;
}

/** Every `expr` in the dashboard, wherever it is (panels, rows' panels, annotations), and the templating queries as PromQL. */
function dashboardQueries(dashboard: unknown): Query[] {
  const queries: Query[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, `${at}[${index}]`));
    else if (typeof node === 'object' && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') queries.push({ at: `${at}.expr`, expr: value });
        else if (key !== 'templating') walk(value, `${at}.${key}`);
      }
    }
  };
  walk(dashboard, '$');
  const { templating } = dashboard as { templating: { list: Array<{ name: string; type: string; query: unknown }> } };
  for (const variable of templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    queries.push({ at: `templating ${variable.name}`, expr: variableQueryAsPromQL(query) });
  }
  return queries;
}

/** The PromQL inside a Grafana Prometheus variable query; other forms (`metrics(…)`, `label_names()`) are not used here. */
function variableQueryAsPromQL(query: string): string {
  const labelValues = /^label_values\((?:(.+),)?\s*[A-Za-z_]\w*\s*\)$/s.exec(query);
  if (labelValues !== null) return labelValues[1] ?? '';
  const queryResult = /^query_result\((.+)\)$/s.exec(query);
  if (queryResult !== null) return queryResult[1]!;
  throw new Error(`a variable query this test does not read: ${query}`);
}

function ruleQueries(rules: unknown): Query[] {
  const { groups } = rules as { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> };
  return groups.flatMap((group) => group.rules.map((rule) => ({ at: `${group.name}/${rule.alert ?? rule.record}`, expr: String(rule.expr) })));
}

/** `at: name` for every metric a query reads that is not exposed. */
function unknownMetrics(queries: readonly Query[], exposed: ReadonlySet<string>): string[] {
  return queries.flatMap(({ at, expr }) => metricNames(expr).filter((name) => !exposed.has(name) && !PER_TARGET_SERIES.has(name)).map((name) => `${at}: ${name}`));
}

describe('metricNames', () => {
  test('finds the metrics of an expression and nothing else: not functions, aggregations, labels, strings, ranges, numbers or Grafana variables', () => {
    const expr = `# spend per hour
      sum by (model, operation) (rate(llm_cost_dollars_total{model=~"$model", operation!="sum(x)"}[1h] offset 5m)) * 3600
        / on (model) group_left (team) max without (instance) (team_info{team="a b"})
      > bool 1e-3 unless topk(3, count_values("value", spend_alerts_series_firing[$__rate_interval]))
      or histogram_quantile(0.9, sum(increase(spend_alerts_evaluation_duration_seconds_bucket[\${interval}]))) and Inf`;
    expect(metricNames(expr)).toEqual(['llm_cost_dollars_total', 'team_info', 'spend_alerts_series_firing', 'spend_alerts_evaluation_duration_seconds_bucket']);
  });

  test('an unknown metric is reported, and a histogram\'s series are known by the name of its TYPE line', () => {
    const exposed = exposedSeriesNames(
      '# HELP spend_alerts_evaluation_duration_seconds x\n# TYPE spend_alerts_evaluation_duration_seconds histogram\n# TYPE llm_cost_dollars_total counter\n',
    );
    const queries = [
      { at: 'panel', expr: 'sum by (le) (rate(spend_alerts_evaluation_duration_seconds_bucket[5m])) / ignoring(le) llm_cost_dolars_total' },
      { at: 'rule', expr: 'up == 0 and spend_alerts_evaluation_duration_seconds_sum > 0' },
    ];
    expect(unknownMetrics(queries, exposed)).toEqual(['panel: llm_cost_dolars_total']);
  });

  test('reads the metric of a label_values variable query, and refuses forms it does not know', () => {
    expect(dashboardQueries({ templating: { list: [{ name: 'm', type: 'query', query: { query: 'label_values(llm_tokens_used_total{x="y"}, model)' } }] } })).toEqual([
      { at: 'templating m', expr: 'llm_tokens_used_total{x="y"}' },
    ]);
    expect(dashboardQueries({ templating: { list: [{ name: 'm', type: 'query', query: 'label_values(model)' }] } })).toEqual([{ at: 'templating m', expr: '' }]);
    expect(() => dashboardQueries({ templating: { list: [{ name: 'm', type: 'query', query: 'metrics(llm_.*)' }] } })).toThrow(/does not read: metrics/);
  });
});

describe('the examples read only what spend-alerts run exports', () => {
  let dir: string;
  let fake: FakeLangfuse;
  let receiver: HttpReceiver;
  let daemon: CliProcess | undefined;
  let exposed: Set<string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spend-alerts-examples-'));
    fake = await startFakeLangfuse({ observations: [spend('a', 3)] });
    receiver = await startHttpReceiver();
    const configFile = join(dir, 'alerts.yaml');
    await writeFile(
      configFile,
      `langfuse:
  baseUrl: ${fake.url}
  publicKey: ${fake.publicKey}
  secretKey: ${fake.secretKey}
costExporter: true
channels:
  hook: { type: webhook, url: "${receiver.url('/hook')}" }
alerts:
  - { name: budget, window: 24h, threshold: 100, channels: [hook] }
`,
    );
    const port = await freePort();
    daemon = startCli({ args: ['run', '--config', configFile, '--state-dir', join(dir, 'state'), '--port', String(port)] });
    // after the first evaluation (run at start-up) whatever registers late has registered too
    await daemon.waitForLog(isEvaluation, 'the first evaluation');
    exposed = exposedSeriesNames(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  });

  afterAll(async () => {
    await daemon?.kill();
    await fake?.close();
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the dashboard: every query of every panel, nested row and variable', async () => {
    interface Panel {
      readonly type: string;
      readonly title: string;
      readonly panels?: Panel[];
      readonly targets?: Array<{ expr?: unknown }>;
    }
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] };
    const queries = dashboardQueries(dashboard);
    // every panel and every panel inside a collapsed row has its queries where the walk finds them
    const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]).filter((panel) => panel.type !== 'row');
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(typeof target.expr, panel.title).toBe('string');
    }
    expect(queries.length).toBeGreaterThanOrEqual(panels.length + 2);
    for (const name of ['llm_cost_dollars_total', 'llm_tokens_used_total', 'spend_alerts_window_cost_usd', 'spend_alerts_series_threshold_usd', 'spend_alerts_langfuse_budget_limit_requests']) {
      expect(queries.some(({ expr }) => metricNames(expr).includes(name)), name).toBe(true);
    }
    expect(unknownMetrics(queries, exposed)).toEqual([]);
  });

  test('the dashboard imports with one Prometheus data source input, used by every panel and query', async () => {
    const text = await readFile(DASHBOARD, 'utf8');
    const dashboard = JSON.parse(text) as {
      __inputs: Array<{ name: string; type: string; pluginId: string }>;
      schemaVersion: number;
      panels: Array<{ id: number; type: string; panels?: Array<{ id: number }> }>;
      templating: { list: Array<{ name: string }> };
    };
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(dashboard.schemaVersion).toBe(39);
    const datasources = [...text.matchAll(/"datasource": \{\s*"type": "([^"]+)",\s*"uid": "([^"]+)"/g)].map(([, type, uid]) => `${type} ${uid}`);
    expect(new Set(datasources)).toEqual(new Set(['grafana -- Grafana --', 'prometheus ${DS_PROMETHEUS}']));
    // panel ids are unique, nested ones included
    const ids = dashboard.panels.flatMap((panel) => [panel.id, ...(panel.panels ?? []).map((nested) => nested.id)]);
    expect(new Set(ids).size).toBe(ids.length);
    // every variable a query uses is defined (Grafana's own start with __)
    const defined = new Set(dashboard.templating.list.map((variable) => variable.name));
    const used = new Set([...text.matchAll(/\$\{?(\w+)/g)].map(([, name]) => name!).filter((name) => !name.startsWith('__')));
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
  });

  test('the rules: every expression, and each alert has a severity and says what it means', async () => {
    const rules = parse(await readFile(RULES, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string; labels?: { severity?: string }; annotations?: { summary?: string; description?: string } }> }>;
    };
    const queries = ruleQueries(rules);
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const rule of rules.groups.flatMap((group) => group.rules)) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
    expect(unknownMetrics(queries, exposed)).toEqual([]);
  });
});

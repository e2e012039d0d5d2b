// The daemon's Prometheus registry: names, labels, and the bound on per-series cardinality.
import { describe, expect, test } from 'vitest';
import { DaemonMetrics, type EvaluationOutcome } from '../../src/daemon/metrics.js';
import { emptyState } from '../../src/core/ledger.js';

type Series = EvaluationOutcome['evaluations'][number]['series'][number];

const series = (seriesKey: string, value: number, breach: Series['breach'] = null, levels: Series['levels'] = { critical: 10 }): Series => ({
  seriesKey,
  value,
  breach,
  levels,
});

const outcome = (alerts: Record<string, Series[]>, extra: Partial<EvaluationOutcome> = {}): EvaluationOutcome => ({
  evaluations: Object.entries(alerts).map(([name, s]) => ({ alert: { name }, series: s })),
  alertFailures: [],
  deliveryFailures: [],
  deliveries: [],
  state: emptyState(),
  ...extra,
});

const AT = new Date('2026-11-25T12:00:00Z');

function lines(text: string, metric: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `));
}

describe('DaemonMetrics', () => {
  test('exports spend, thresholds per severity and firing per series, labelled by alert and group', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false });
    metrics.evaluation(
      outcome({
        daily: [series('', 61.25, 'critical', { warning: 40, critical: 50 })],
        models: [series('model=gpt-4o', 3), series('model=null', 1)],
      }),
      0.5,
      AT,
    );
    const text = await metrics.text();
    expect(lines(text, 'spend_alerts_series_spend_usd')).toEqual([
      'spend_alerts_series_spend_usd{alert="daily",group=""} 61.25',
      'spend_alerts_series_spend_usd{alert="models",group="model=gpt-4o"} 3',
      'spend_alerts_series_spend_usd{alert="models",group="model=null"} 1',
    ]);
    expect(lines(text, 'spend_alerts_series_threshold_usd')).toContain(
      'spend_alerts_series_threshold_usd{alert="daily",group="",severity="warning"} 40',
    );
    expect(lines(text, 'spend_alerts_series_threshold_usd')).toContain(
      'spend_alerts_series_threshold_usd{alert="daily",group="",severity="critical"} 50',
    );
    expect(lines(text, 'spend_alerts_series_firing')).toEqual([
      'spend_alerts_series_firing{alert="daily",group=""} 1',
      'spend_alerts_series_firing{alert="models",group="model=gpt-4o"} 0',
      'spend_alerts_series_firing{alert="models",group="model=null"} 0',
    ]);
    expect(lines(text, 'spend_alerts_last_successful_evaluation_timestamp_seconds')).toEqual([
      `spend_alerts_last_successful_evaluation_timestamp_seconds ${AT.getTime() / 1000}`,
    ]);
  });

  test('keeps only the top series of an alert, firing ones first, and says how many there were', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false, topSeries: 20 });
    const users = Array.from({ length: 500 }, (_, i) => series(`userId=user-${i}`, i));
    // a relative alert can fire on a small series: it must not be cut
    users[3] = series('userId=user-3', 3, 'warning');
    metrics.evaluation(outcome({ users }), 1, AT);
    const text = await metrics.text();
    const exported = lines(text, 'spend_alerts_series_spend_usd');
    expect(exported).toHaveLength(20);
    expect(exported).toContain('spend_alerts_series_spend_usd{alert="users",group="userId=user-3"} 3');
    expect(exported).toContain('spend_alerts_series_spend_usd{alert="users",group="userId=user-499"} 499');
    expect(exported).not.toContain('spend_alerts_series_spend_usd{alert="users",group="userId=user-480"} 480');
    expect(lines(text, 'spend_alerts_series_firing')).toHaveLength(20);
    expect(lines(text, 'spend_alerts_series_evaluated')).toEqual(['spend_alerts_series_evaluated{alert="users"} 500']);
  });

  test('exports at most maxSeriesSamples series samples in all: firing ones first, then by spend, across alerts and evaluations', async () => {
    // each series here is 3 samples (spend, firing, one threshold): 9 allow 3 series
    const metrics = new DaemonMetrics({ processMetrics: false, topSeries: 2, maxSeriesSamples: 9 });
    metrics.evaluation(outcome({ small: [series('', 1, 'critical')], big: [series('model=a', 50), series('model=b', 40), series('model=c', 45)] }), 1, AT);
    // a later evaluation of other alerts competes with what the earlier ones exported
    metrics.evaluation(outcome({ later: [series('', 42)] }), 1, AT);
    const text = await metrics.text();
    expect(lines(text, 'spend_alerts_series_spend_usd')).toEqual([
      'spend_alerts_series_spend_usd{alert="small",group=""} 1',
      'spend_alerts_series_spend_usd{alert="big",group="model=a"} 50',
      'spend_alerts_series_spend_usd{alert="big",group="model=c"} 45',
    ]);
    expect(lines(text, 'spend_alerts_series_firing')).toHaveLength(3);
    expect(lines(text, 'spend_alerts_series_threshold_usd')).toHaveLength(3);
    expect(lines(text, 'spend_alerts_series_evaluated')).toEqual([
      'spend_alerts_series_evaluated{alert="small"} 1',
      'spend_alerts_series_evaluated{alert="big"} 3',
      'spend_alerts_series_evaluated{alert="later"} 1',
    ]);

    // the firing series goes quiet and makes room for the later alert's larger spend
    metrics.evaluation(outcome({ small: [series('', 1)] }), 1, AT);
    expect(lines(await metrics.text(), 'spend_alerts_series_spend_usd')).toEqual([
      'spend_alerts_series_spend_usd{alert="big",group="model=a"} 50',
      'spend_alerts_series_spend_usd{alert="big",group="model=c"} 45',
      'spend_alerts_series_spend_usd{alert="later",group=""} 42',
    ]);
  });

  test('drops series that are gone at the next evaluation, and alerts that were removed by a reload', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false });
    metrics.evaluation(outcome({ models: [series('model=a', 2), series('model=b', 1)], daily: [series('', 5)] }), 1, AT);
    metrics.evaluation(outcome({ models: [series('model=b', 4)] }), 1, AT);
    let text = await metrics.text();
    expect(lines(text, 'spend_alerts_series_spend_usd').sort()).toEqual([
      'spend_alerts_series_spend_usd{alert="daily",group=""} 5',
      'spend_alerts_series_spend_usd{alert="models",group="model=b"} 4',
    ]);
    expect(lines(text, 'spend_alerts_series_threshold_usd')).not.toContainEqual(expect.stringContaining('model=a'));

    metrics.retainAlerts(new Set(['models']));
    text = await metrics.text();
    expect(lines(text, 'spend_alerts_series_spend_usd')).toEqual(['spend_alerts_series_spend_usd{alert="models",group="model=b"} 4']);
    expect(lines(text, 'spend_alerts_series_evaluated')).toEqual(['spend_alerts_series_evaluated{alert="models"} 1']);
  });

  test('counts evaluations, failures, notifications, Langfuse requests and reloads', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false });
    metrics.evaluation(
      outcome({}, { deliveries: [{ channel: 'slack', ok: true }, { channel: 'hook', ok: false }], deliveryFailures: [{}] }),
      2,
      AT,
    );
    metrics.evaluationCrashed(0.1);
    metrics.langfuseRequest({ endpoint: 'metrics-v2', status: 200, ms: 12 });
    metrics.langfuseRequest({ endpoint: 'metrics-v2', status: 0, ms: 30_000 });
    metrics.reload(false);
    const text = await metrics.text();
    expect(lines(text, 'spend_alerts_evaluations_total')).toEqual(['spend_alerts_evaluations_total 2']);
    expect(lines(text, 'spend_alerts_evaluation_failures_total')).toEqual(['spend_alerts_evaluation_failures_total 2']);
    expect(lines(text, 'spend_alerts_evaluation_duration_seconds_count')).toEqual(['spend_alerts_evaluation_duration_seconds_count 2']);
    // a failed evaluation is not a successful one
    expect(lines(text, 'spend_alerts_last_successful_evaluation_timestamp_seconds')).toEqual([
      'spend_alerts_last_successful_evaluation_timestamp_seconds 0',
    ]);
    expect(lines(text, 'spend_alerts_notifications_total')).toEqual([
      'spend_alerts_notifications_total{channel="slack",outcome="sent"} 1',
      'spend_alerts_notifications_total{channel="hook",outcome="failed"} 1',
    ]);
    expect(lines(text, 'spend_alerts_langfuse_requests_total')).toEqual([
      'spend_alerts_langfuse_requests_total{endpoint="metrics-v2",status="200"} 1',
      'spend_alerts_langfuse_requests_total{endpoint="metrics-v2",status="0"} 1',
    ]);
    expect(lines(text, 'spend_alerts_config_reloads_total')).toEqual([
      'spend_alerts_config_reloads_total{outcome="success"} 0',
      'spend_alerts_config_reloads_total{outcome="failure"} 1',
    ]);
    expect(lines(text, 'spend_alerts_config_last_reload_successful')).toEqual(['spend_alerts_config_last_reload_successful 0']);
  });

  test('exports Langfuse and channel health and pending notifications per channel', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false });
    const notification = { id: 'n1' } as never;
    const pending = { attempts: 2, nextAttemptAt: AT.toISOString() };
    const state = {
      ...emptyState(),
      langfuse: { failures: 4, since: AT.toISOString(), lastError: 'HTTP 503', noticeSent: true },
      channels: { slack: { failures: 3, since: AT.toISOString(), lastError: 'no_service', noticeSent: true } },
      outbox: {
        n1: { notification, createdAt: AT.toISOString(), expiresAt: null, channels: { slack: pending, hook: pending } },
        n2: { notification, createdAt: AT.toISOString(), expiresAt: null, channels: { slack: pending } },
      },
    };
    metrics.evaluation(outcome({}, { state }), 1, AT);
    const text = await metrics.text();
    expect(lines(text, 'spend_alerts_langfuse_degraded')).toEqual(['spend_alerts_langfuse_degraded 1']);
    expect(lines(text, 'spend_alerts_langfuse_consecutive_failures')).toEqual(['spend_alerts_langfuse_consecutive_failures 4']);
    expect(lines(text, 'spend_alerts_channel_degraded')).toEqual(['spend_alerts_channel_degraded{channel="slack"} 1']);
    expect(lines(text, 'spend_alerts_pending_notifications')).toEqual([
      'spend_alerts_pending_notifications{channel="slack"} 2',
      'spend_alerts_pending_notifications{channel="hook"} 1',
    ]);
    metrics.evaluation(outcome({}), 1, AT);
    const healed = await metrics.text();
    expect(lines(healed, 'spend_alerts_langfuse_degraded')).toEqual(['spend_alerts_langfuse_degraded 0']);
    expect(lines(healed, 'spend_alerts_pending_notifications')).toEqual([]);
  });

  test('exports what the request budget spent and allows, and deferred evaluations', async () => {
    const metrics = new DaemonMetrics({ processMetrics: false });
    metrics.budget({
      limits: { perDay: 100 },
      effective: { perDay: 50 },
      usedLastHour: 3,
      usedLastDay: 42,
      pausedUntil: new Date('2026-11-25T13:00:00Z'),
      pace: 0.5,
    });
    metrics.deferred('pace');
    const text = await metrics.text();
    expect(lines(text, 'spend_alerts_langfuse_budget_used_requests')).toEqual([
      'spend_alerts_langfuse_budget_used_requests{window="hour"} 3',
      'spend_alerts_langfuse_budget_used_requests{window="day"} 42',
    ]);
    expect(lines(text, 'spend_alerts_langfuse_budget_limit_requests')).toEqual(['spend_alerts_langfuse_budget_limit_requests{window="day"} 50']);
    expect(lines(text, 'spend_alerts_langfuse_budget_paused_until_timestamp_seconds')).toEqual([
      'spend_alerts_langfuse_budget_paused_until_timestamp_seconds 1795611600',
    ]);
    expect(lines(text, 'spend_alerts_evaluations_deferred_total')).toEqual(['spend_alerts_evaluations_deferred_total{kind="pace"} 1']);
  });

  test('process metrics carry the same prefix, and two registries do not collide', async () => {
    const first = new DaemonMetrics();
    const second = new DaemonMetrics();
    const names = (await first.text()).split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]!);
    expect(names).toContain('spend_alerts_process_resident_memory_bytes');
    expect(names.every((name) => name.startsWith('spend_alerts_'))).toBe(true);
    expect(await second.text()).toContain('spend_alerts_evaluations_total 0');
  });
});

// The demo's bundled spend: deterministic, plausible, quick, and with the spike the example alerts
// are there to catch.
import { describe, expect, test } from 'vitest';
import { sampleObservations } from '../../src/demo/sample-data.js';
import type { FakeObservation } from '../../tools/fake-langfuse/server.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-25T15:20:00Z');

const cost = (observations: readonly FakeObservation[]): number =>
  observations.reduce((sum, o) => sum + (o.totalCost ?? 0), 0);
const between = (observations: readonly FakeObservation[], from: number, to: number): FakeObservation[] =>
  observations.filter((o) => Date.parse(o.startTime) >= from && Date.parse(o.startTime) < to);

describe('sampleObservations', () => {
  const sample = sampleObservations(NOW);

  test('is the same for the same now, and moves with now', () => {
    expect(sampleObservations(new Date(NOW))).toEqual(sample);
    const later = sampleObservations(new Date(NOW.getTime() + 3_600_000));
    expect(later).not.toEqual(sample);
  });

  test('covers two weeks up to now, with under 20k observations', () => {
    const times = sample.map((o) => Date.parse(o.startTime));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW.getTime() - 14 * DAY);
    expect(Math.max(...times)).toBeLessThanOrEqual(NOW.getTime());
    expect(sample.length).toBeLessThan(20_000);
    expect(new Set(sample.map((o) => o.id)).size).toBe(sample.length);
  });

  test('spends $40–70 a day in production on the usual models, users, tags and environments', () => {
    const startOfToday = Math.floor(NOW.getTime() / DAY) * DAY;
    const production = sample.filter((o) => o.environment === 'production');
    const days = Array.from({ length: 13 }, (_, i) => cost(between(production, startOfToday - (i + 1) * DAY, startOfToday - i * DAY)));
    for (const day of days) {
      expect(day).toBeGreaterThan(35);
      expect(day).toBeLessThan(80);
    }
    const mean = days.reduce((a, b) => a + b, 0) / days.length;
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(70);

    expect(new Set(sample.map((o) => o.providedModelName))).toEqual(
      new Set(['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5-20250929', null]),
    );
    expect(new Set(sample.map((o) => o.traceName))).toEqual(new Set(['chat', 'rag_query', 'summarize', 'security_audit']));
    expect(new Set(sample.map((o) => o.userId)).size).toBe(20);
    expect(new Set(sample.flatMap((o) => o.tags))).toEqual(new Set(['team-a', 'team-b']));
    const staging = sample.filter((o) => o.environment === 'staging').length / sample.length;
    expect(staging).toBeGreaterThan(0.1);
    expect(staging).toBeLessThan(0.3);
    expect(new Set(sample.map((o) => o.traceMetadata.agent_type))).toEqual(
      new Set(['assistant', 'retriever', 'writer', 'auditor']),
    );
    const spans = sample.filter((o) => o.providedModelName === null);
    expect(spans.every((o) => o.type === 'SPAN' && o.totalCost === null)).toBe(true);
    expect(spans.length / sample.length).toBeLessThan(0.25);
  });

  test('one user is heavy', () => {
    const perUser = new Map<string, number>();
    for (const o of sample) perUser.set(o.userId ?? '', (perUser.get(o.userId ?? '') ?? 0) + 1);
    const shares = [...perUser.values()].map((n) => n / sample.length).sort((a, b) => b - a);
    expect(shares[0]).toBeGreaterThan(0.2);
    expect(shares[1]).toBeLessThan(0.1);
  });

  test.each(['2026-11-25T15:20:00Z', '2026-11-25T03:00:00Z', '2026-11-25T00:20:00Z'])(
    'spikes in the last hours, mostly on one model, so today is ~3× a normal day (now %s)',
    (iso) => {
      const now = new Date(iso);
      const observations = sampleObservations(now);
      const startOfToday = Math.floor(now.getTime() / DAY) * DAY;
      const elapsed = now.getTime() - startOfToday;
      const today = cost(between(observations, startOfToday, now.getTime() + 1));
      const sameTimeBefore = Array.from({ length: 7 }, (_, i) =>
        cost(between(observations, startOfToday - (i + 1) * DAY, startOfToday - (i + 1) * DAY + elapsed)),
      );
      const fullDays = Array.from({ length: 7 }, (_, i) =>
        cost(between(observations, startOfToday - (i + 1) * DAY, startOfToday - i * DAY)),
      );
      const baseline = sameTimeBefore.reduce((a, b) => a + b, 0) / 7;
      const normalDay = fullDays.reduce((a, b) => a + b, 0) / 7;
      expect(today).toBeGreaterThan(2 * baseline);
      expect(today).toBeGreaterThan(50);
      expect(today).toBeGreaterThan(1.3 * normalDay);

      const lastDay = between(observations, now.getTime() - DAY, now.getTime() + 1);
      const perModel = new Map<string | null, number>();
      for (const o of lastDay) perModel.set(o.providedModelName, (perModel.get(o.providedModelName) ?? 0) + (o.totalCost ?? 0));
      const claude = perModel.get('claude-sonnet-4-5-20250929') ?? 0;
      expect(claude / cost(lastDay)).toBeGreaterThan(0.6);
      expect(claude).toBeGreaterThan(100);
    },
  );

  // the demo's perTrace alert (threshold $5) names exactly one trace at any time of day
  test.each(['2026-11-25T00:05:00Z', '2026-11-25T15:20:00Z', '2026-11-25T23:55:00Z'])('has one clearly expensive trace today, before now (now %s)', (at) => {
    const now = new Date(at);
    const startOfToday = Math.floor(now.getTime() / DAY) * DAY;
    const byTrace = new Map<string, number>();
    for (const o of sampleObservations(now)) byTrace.set(o.traceId, (byTrace.get(o.traceId) ?? 0) + (o.totalCost ?? 0));
    const ranked = [...byTrace.entries()].sort((a, b) => b[1] - a[1]);
    expect(ranked[0]![1]).toBeGreaterThan(12);
    expect(ranked[1]![1]).toBeLessThan(3);
    const loop = sampleObservations(now).filter((o) => o.traceId === ranked[0]![0]);
    expect(loop.every((o) => Date.parse(o.startTime) >= startOfToday && Date.parse(o.startTime) < now.getTime())).toBe(true);
    expect(loop[0]).toMatchObject({ traceName: 'security_audit', userId: 'user-07' });
  });
});

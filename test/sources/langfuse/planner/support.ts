// A planner against the fake Langfuse, next to the unplanned source it must agree with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { loadConfig } from '../../../../src/config/load.js';
import type { Config } from '../../../../src/config/schema.js';
import { startFakeLangfuse, type FakeLangfuse, type FakeObservation } from '../../../../tools/fake-langfuse/server.js';
import { LangfuseClient, langfuseIdentity } from '../../../../src/sources/langfuse/client.js';
import { plannerSettings } from '../../../../src/config/planner-settings.js';
import { LangfuseSpendSource } from '../../../support/langfuse-spend-source.js';
import { createLogger, type Logger } from '../../../../src/log/logger.js';
import { createSpendSource, type PlannedSpendSource, type RequestQuota } from '../../../../src/sources/langfuse/planner/index.js';
import type { SpendQuery, SpendResult } from '../../../../src/core/query.js';
import { spend, type SpendFields } from '../../../support/observations.js';
import { seededRandom } from '../../../../src/demo/sample-data.js';

export const KEYS = { publicKey: 'pk-lf-planner', secretKey: 'sk-lf-planner' };

export interface PlannerFixture {
  readonly fake: FakeLangfuse;
  readonly config: Config;
  readonly stateDir: string;
  readonly client: LangfuseClient;
  readonly naive: LangfuseSpendSource;
  readonly log: Logger;
  readonly logs: () => string;
  /** `retention`: the queries the cache keeps, instead of the alerts' (pairs queries are no alert's) */
  planned(options?: { readOnly?: boolean; budget?: RequestQuota; client?: LangfuseClient; retention?: (now: Date) => SpendQuery[] }): PlannedSpendSource;
  /** metrics requests the fake received since `since` (an index into fake.requests) */
  metricsRequests(since?: number): number;
  close(): Promise<void>;
}

export function clientFor(fake: FakeLangfuse): LangfuseClient {
  // No real waiting in tests: a Retry-After of any length ends the attempt.
  return new LangfuseClient({ baseUrl: fake.url, ...KEYS, maxAttempts: 2, maxRetryAfterSeconds: 0, sleep: async () => {} });
}

export async function plannerFixture(alertsYaml: string, observations: readonly FakeObservation[]): Promise<PlannerFixture> {
  const fake = await startFakeLangfuse({ observations, ...KEYS });
  const stateDir = await mkdtemp(join(tmpdir(), 'spend-alerts-planner-'));
  const text = `channels:\n  terminal:\n    type: console\n${alertsYaml}`;
  const env = { LANGFUSE_BASE_URL: fake.url, LANGFUSE_PUBLIC_KEY: KEYS.publicKey, LANGFUSE_SECRET_KEY: KEYS.secretKey };
  const { config } = await loadConfig({ path: 'alerts.yaml', text, env, needs: 'all' });
  let logText = '';
  const stream = new PassThrough().on('data', (chunk: Buffer) => (logText += chunk.toString()));
  const log = createLogger({ level: 'debug', format: 'json', redact: (t) => t, destination: stream });
  const client = clientFor(fake);
  return {
    fake,
    config,
    stateDir,
    client,
    naive: new LangfuseSpendSource(client),
    log,
    logs: () => logText,
    planned: (options = {}) =>
      createSpendSource({
        client: options.client ?? clientFor(fake),
        stateDir,
        project: langfuseIdentity(fake.url, KEYS.publicKey),
        settings: { ...plannerSettings(config), ...(options.retention && { retention: options.retention }) },
        log,
        readOnly: options.readOnly ?? false,
        budget: options.budget,
      }),
    metricsRequests: (since = 0) => fake.requests.slice(since).filter((r) => r.path.includes('metrics')).length,
    close: async () => {
      await fake.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Planned and unplanned readings agree: the same groups, every number within 1e-9. An empty range
 * (a day window at midnight) is $0 to the planner; the unplanned source sends Langfuse a range
 * that ends before it starts there, which Langfuse refuses.
 */
export function expectSameResults(queries: readonly SpendQuery[], planned: readonly SpendResult[], naive: readonly SpendResult[], context: string): void {
  expect(planned.length, context).toBe(naive.length);
  planned.forEach((result, i) => {
    const expected = naive[i]!;
    const where = `${context}, query ${i}`;
    if (result.status === 'rejected') throw new Error(`${where}: the planner failed: ${String(result.reason)}`);
    if (queries[i]!.from.getTime() === queries[i]!.to.getTime()) {
      expect(result.value.total, where).toBe(0);
      expect(result.value.byGroup?.size ?? 0, where).toBe(0);
      return;
    }
    if (expected.status === 'rejected') throw new Error(`${where}: the unplanned source failed: ${String(expected.reason)}`);
    expect(Math.abs(result.value.total - expected.value.total), `${where}: total ${result.value.total} vs ${expected.value.total}`).toBeLessThan(1e-9);
    if (expected.value.byGroup === null) {
      expect(result.value.byGroup, where).toBeNull();
      return;
    }
    const mine = result.value.byGroup;
    expect(mine, where).not.toBeNull();
    expect([...mine!.keys()].sort(byKey), `${where}: groups`).toEqual([...expected.value.byGroup.keys()].sort(byKey));
    for (const [key, cost] of expected.value.byGroup) {
      expect(Math.abs(mine!.get(key)! - cost), `${where}: group ${String(key)}`).toBeLessThan(1e-9);
    }
  });
}

/** null before a group named "null", which String() alone can't tell apart */
function byKey(a: string | null, b: string | null): number {
  return String(a).localeCompare(String(b)) || Number(a !== null) - Number(b !== null);
}

/** A deterministic pseudo-random sequence, the sample data's. */
export const random = seededRandom;

const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', null] as const;
const ENVIRONMENTS = ['production', 'staging'] as const;
const TRACE_NAMES = ['chat', 'rag_query', 'summarize'] as const;

/** `count` generations at random instants (to the ms) in [from, to), spread over models, environments, trace names and users. */
export function randomSpend(from: string, to: string, count: number, seed: number): FakeObservation[] {
  const next = random(seed);
  const start = Date.parse(from);
  const span = Date.parse(to) - start;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return Array.from({ length: count }, () => {
    const fields: SpendFields = {
      model: pick(MODELS),
      environment: pick(ENVIRONMENTS),
      traceName: pick(TRACE_NAMES),
      userId: `user-${Math.floor(next() * 30)}`,
    };
    // Some generations cost nothing: their groups must still be reported, at $0.
    const usd = next() < 0.1 ? 0 : Math.round(next() * 1e6) / 1e5;
    return spend(new Date(start + Math.floor(next() * span)), usd, fields);
  });
}

// `spend-alerts models diff|apply` end to end: the command line (main, in process, as bin.ts calls
// it) against the fake Langfuse over real sockets, seeded with Langfuse's own catalogue
// (test/fixtures/langfuse/builtin-models.json). Every write is counted from the fake's request log.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { SECRETS } from '../support/harness.js';
import { builtinModels, customModel, recordedMissingUnitAnswer } from '../support/langfuse-models.js';

let dir: string;
let fake: FakeLangfuse;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-models-'));
  fake = await startFakeLangfuse({ observations: [], publicKey: SECRETS.publicKey, secretKey: SECRETS.secretKey, managedModels: builtinModels() });
});

afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ LANGFUSE_BASE_URL: fake.url, LANGFUSE_PUBLIC_KEY: SECRETS.publicKey, LANGFUSE_SECRET_KEY: SECRETS.secretKey });

/** a model of the project made before the test, as someone did in Langfuse's UI */
async function projectModel(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fake.url}/api/public/models`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${SECRETS.publicKey}:${SECRETS.secretKey}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

const MODELS_YAML = `
models:
  - modelName: llama-3-70b-internal
    matchPattern: "(?i)^(llama-3-70b-internal)$"
    inputPrice: 0.000001
    outputPrice: 0.000002
  - modelName: acme-inhouse-llm-v1
    matchPattern: "(?i)^(acme-inhouse-llm-v1)$"
    unit: TOKENS
    inputPrice: 0
    outputPrice: 0
`;

/** `models:` of one model at $0.000001 / $0.000002 a token */
const oneModel = (modelName: string, matchPattern: string): string =>
  `\nmodels:\n  - modelName: ${modelName}\n    matchPattern: "${matchPattern}"\n    inputPrice: 0.000001\n    outputPrice: 0.000002\n`;

/** alerts.yaml with a channel whose secret is never set: models needs none */
async function writeConfig(models: string = MODELS_YAML, extra = ''): Promise<void> {
  await writeFile(
    join(dir, 'alerts.yaml'),
    `${extra}channels:\n  slack-ops:\n    type: slack\n    webhookUrl: \${SLACK_WEBHOOK_URL}\nalerts:\n  - name: daily\n    window: day\n    threshold: 50\n    channels: [slack-ops]\n${models}`,
  );
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** what the client slept between tries, ms */
  sleeps: number[];
}

async function models(...args: string[]): Promise<Run> {
  return modelsWith(env(), ...args);
}

async function modelsWith(environment: Record<string, string>, ...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await main(['models', ...args, '--log-level', 'warn'], {
    stdout: out,
    stderr: err,
    env: environment,
    cwd: dir,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { code, stdout, stderr, sleeps };
}

const writes = () => fake.requests.filter((r) => r.method === 'POST' || r.method === 'DELETE').map((r) => r.method);
const customNames = () => (fake.customModels() as Array<{ modelName: string }>).map((m) => m.modelName).sort();

describe('models diff and apply', () => {
  test('from a project without models: diff shows two creates (exit 3), apply creates them and says prices are not retroactive', async () => {
    await writeConfig();
    const diff = await models('diff', '--exit-code');
    expect(diff.code).toBe(3);
    expect(diff.stdout).toBe(
      [
        '2 to create, 0 to replace, 0 unchanged (2 in alerts.yaml)',
        '  create     llama-3-70b-internal  (?i)^(llama-3-70b-internal)$  TOKENS  input 0.000001  output 0.000002',
        '  create     acme-inhouse-llm-v1  (?i)^(acme-inhouse-llm-v1)$  TOKENS  input 0  output 0',
        '',
      ].join('\n'),
    );
    expect(writes()).toEqual([]);
    // the catalogue's 167 models take two pages of 100
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/public/models', 'GET /api/public/models']);

    const apply = await models('apply');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toMatch(/^ {2}created {4}llama-3-70b-internal .* \(id \S+\)$/m);
    expect(apply.stdout.trimEnd().split('\n').at(-1)).toBe('Prices apply to generations ingested from now on, never to past ones.');
    expect(writes()).toEqual(['POST', 'POST']);
    expect(customNames()).toEqual(['acme-inhouse-llm-v1', 'llama-3-70b-internal']);
    // nothing of the request budget: the state directory isn't even made
    expect(await readdir(dir)).toEqual(['alerts.yaml']);
  });

  test('applied twice: the second apply sends no write, and diff --exit-code exits 0', async () => {
    await writeConfig();
    expect((await models('apply')).code).toBe(0);
    const before = writes().length;
    const again = await models('apply');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('nothing to change: Langfuse has the 2 model(s) of alerts.yaml\nPrices apply to generations ingested from now on, never to past ones.\n');
    expect(writes().length).toBe(before);
    const diff = await models('diff', '--exit-code');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('0 to create, 0 to replace, 2 unchanged');
  });

  test('a changed price replaces exactly that model: one DELETE, one POST; the old and new price are shown', async () => {
    await writeConfig();
    await models('apply');
    await writeConfig(MODELS_YAML.replace('inputPrice: 0.000001', 'inputPrice: 0.0000012'));
    const diff = await models('diff');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('  replace    llama-3-70b-internal\n      inputPrice: 0.000001 → 0.0000012\n  unchanged  acme-inhouse-llm-v1\n');
    const before = writes().length;
    const apply = await models('apply');
    expect(apply.code).toBe(0);
    expect(writes().slice(before)).toEqual(['DELETE', 'POST']);
    expect(apply.stdout).toMatch(/deleted {4}llama-3-70b-internal \(id \S+\)\n {2}created {4}llama-3-70b-internal .*input 0\.0000012 .*replacing the one deleted\)/);
  });

  test('a price equal within 1e-12 relative, and unit and startDate written differently, are unchanged', async () => {
    await projectModel({ ...customModel('llama-3-70b-internal', 0.1 + 0.2, 2e-6), startDate: '2026-12-01T00:00:00.000Z' });
    await writeConfig(`
models:
  - modelName: llama-3-70b-internal
    matchPattern: "(?i)^(llama-3-70b-internal)$"
    inputPrice: 0.3
    outputPrice: 0.000002
    startDate: "2026-12-01T01:00:00+01:00"
`);
    const diff = await models('diff', '--exit-code');
    expect(diff.stdout).toContain('1 unchanged');
    expect(diff.code).toBe(0);
  });

  test("the project's other models are listed and never touched", async () => {
    await projectModel(customModel('legacy-finetune', 3e-6, 6e-6));
    await projectModel(customModel('team-b-model', 1e-6, 1e-6));
    await writeConfig();
    const diff = await models('diff');
    expect(diff.stdout).toContain('2 project models not in alerts.yaml (left alone): legacy-finetune, team-b-model\n');
    await models('apply');
    expect(fake.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(customNames()).toEqual(['acme-inhouse-llm-v1', 'legacy-finetune', 'llama-3-70b-internal', 'team-b-model']);
  });

  test("a file model named like one of Langfuse's (gpt-4o) is a create, an override; Langfuse's is never deleted", async () => {
    await writeConfig(`
models:
  - modelName: gpt-4o
    matchPattern: "(?i)^(openai/)?(gpt-4o)$"
    inputPrice: 0.000002
    outputPrice: 0.000008
`);
    const diff = await models('diff');
    expect(diff.stdout).toMatch(/^ {2}create {5}gpt-4o /m);
    expect((await models('apply')).code).toBe(0);
    expect(writes()).toEqual(['POST']);
    expect(customNames()).toEqual(['gpt-4o']);
    const again = await models('diff', '--exit-code');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('1 unchanged');
    // both are listed now: Langfuse's own, still there, and the project's override
    const all = await fetch(`${fake.url}/api/public/models?page=1&limit=200`, {
      headers: { authorization: `Basic ${Buffer.from(`${SECRETS.publicKey}:${SECRETS.secretKey}`).toString('base64')}` },
    }).then((res) => res.json() as Promise<{ data: Array<{ modelName: string; isLangfuseManaged: boolean }> }>);
    expect(all.data.filter((m) => m.modelName === 'gpt-4o').map((m) => m.isLangfuseManaged).sort()).toEqual([false, true]);
  });

  test('175 models (two pages of 100, as the recording totals): every page read, the last project model found', async () => {
    for (let i = 0; i < 8; i++) await projectModel(customModel(`zz-team-${i}`, 1e-6, 2e-6));
    await writeConfig(oneModel('zz-team-7', '(?i)^(zz-team-7)$'));
    const diff = await models('diff', '--exit-code');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('1 unchanged');
    expect(diff.stdout).toContain('7 project models not in alerts.yaml (left alone): zz-team-0, zz-team-1');
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
  });
});

describe('failures', () => {
  test('Langfuse down: retried with backoff, then exit 1 with one line', async () => {
    await writeConfig();
    fake.inject({ kind: 'status', status: 503, times: 10 });
    const run = await models('diff', '--exit-code');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('spend-alerts: models diff: Langfuse is unavailable (HTTP 503: Injected 503)\n');
    expect(run.sleeps).toHaveLength(3);
    expect(fake.requests).toHaveLength(4);
  });

  test('a 429 with Retry-After is waited out as asked, then the list goes on', async () => {
    await writeConfig();
    fake.inject({ kind: 'status', status: 429, retryAfter: 7 });
    const run = await models('diff');
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([7000]);
    expect(run.stdout).toContain('2 to create');
  });

  test('a create refused midway: exit 1, one line, what was done is printed; the next apply finishes the job', async () => {
    await projectModel(customModel('llama-3-70b-internal', 5e-7, 2e-6));
    await writeConfig();
    // the replace's DELETE passes, its POST is refused (a 400: nothing was done, so not retried)
    fake.inject({ kind: 'status', status: 400, path: '/api/public/models', method: 'POST', body: JSON.stringify(recordedMissingUnitAnswer()) });
    const first = await models('apply');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/^ {2}deleted {4}llama-3-70b-internal \(id \S+\)$/m);
    expect(first.stdout).not.toContain('  created ');
    expect(first.stderr).toBe(
      'spend-alerts: models apply: Langfuse rejected the request (HTTP 400: Invalid request data (unit: Invalid option: expected one of "TOKENS"|"CHARACTERS"|"MILLISECONDS"|"SECONDS"|"REQUESTS"|"IMAGES")) (0 of 2 model(s) applied; run models apply again to finish)\n',
    );
    expect(customNames()).toEqual([]);
    // the deleted model is a create now
    const diff = await models('diff', '--exit-code');
    expect(diff.code).toBe(3);
    expect(diff.stdout).toContain('2 to create, 0 to replace');
    const second = await models('apply');
    expect(second.code).toBe(0);
    expect(customNames()).toEqual(['acme-inhouse-llm-v1', 'llama-3-70b-internal']);
  });

  test('an invalid configuration exits 2 with the place of each problem, before any request', async () => {
    await writeConfig(oneModel('broken', '(?i)^(broken'));
    const run = await models('diff', '--exit-code');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^\.\/alerts\.yaml:13:19 models\[0\]\.matchPattern: is not a valid regular expression: Invalid regular expression: \/\^\(broken\/i: Unterminated group\n$/);
    expect(fake.requests).toHaveLength(0);
  });

  test('the Langfuse keys are needed (exit 2, located), channel secrets are not', async () => {
    await writeConfig();
    const { LANGFUSE_SECRET_KEY: _unset, ...withoutSecret } = env();
    const run = await modelsWith(withoutSecret, 'diff');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      './alerts.yaml:1:1 langfuse.secretKey: environment variable LANGFUSE_SECRET_KEY is not set (the default of an omitted key is ${LANGFUSE_SECRET_KEY})\n',
    );
    expect(fake.requests).toHaveLength(0);
  });

  test('secrets are never printed, and hostile model names from Langfuse are escaped', async () => {
    await projectModel(customModel('evil\u001b]0;pwned\u0007name', 1e-6, 1e-6));
    await writeConfig();
    const diff = await models('diff');
    expect(diff.stdout).toContain('evil\\x1b]0;pwned\\x07name');
    expect(diff.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    fake.inject({ kind: 'echo-auth' });
    const refused = await models('diff');
    expect(refused.code).toBe(1);
    for (const output of [diff.stdout, diff.stderr, refused.stdout, refused.stderr]) {
      expect(output).not.toContain(SECRETS.secretKey);
      expect(output).not.toContain(SECRETS.publicKey);
      expect(output).not.toContain(Buffer.from(`${SECRETS.publicKey}:${SECRETS.secretKey}`).toString('base64'));
    }
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { renderJsonSchema } from '../../src/config/json-schema.js';

const committedPath = fileURLToPath(new URL('../../schema/alerts.schema.json', import.meta.url));
const examplePath = fileURLToPath(new URL('../../alerts.example.yaml', import.meta.url));

function committedSchema(): z.ZodType {
  return z.fromJSONSchema(JSON.parse(readFileSync(committedPath, 'utf8')));
}

function example(): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return parse(readFileSync(examplePath, 'utf8'));
}

describe('schema/alerts.schema.json', () => {
  it('is what scripts/generate-json-schema.ts generates (run `npm run schema` after changing the schema)', () => {
    expect(readFileSync(committedPath, 'utf8')).toBe(renderJsonSchema());
  });

  it('points editors at itself from alerts.example.yaml', () => {
    expect(readFileSync(examplePath, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/alerts.schema.json');
  });

  it('accepts alerts.example.yaml as written, ${VAR} references included', () => {
    const result = committedSchema().safeParse(example());
    expect(result.error?.issues).toBeUndefined();
  });

  it('rejects what the loader rejects: unknown keys, wrong types, bad names', () => {
    const schema = committedSchema();
    const typo = example();
    typo.alerts[0] = { ...typo.alerts[0], treshold: 5 };
    expect(schema.safeParse(typo).success).toBe(false);

    const text = example();
    text.alerts[0] = { ...text.alerts[0], threshold: 'lots' };
    expect(schema.safeParse(text).success).toBe(false);

    const name = example();
    name.alerts[0] = { ...name.alerts[0], name: 'Daily Budget' };
    expect(schema.safeParse(name).success).toBe(false);
  });

  it('accepts a reference wherever a number, boolean or URL is expected, and leaves defaults optional', () => {
    const schema = committedSchema();
    const minimal = {
      channels: { hook: { type: 'webhook', url: '${HOOK_URL}' } },
      alerts: [
        {
          name: 'a',
          window: '24h',
          threshold: { warning: '${WARN:-40}', critical: 50 },
          sendResolved: '${SEND_RESOLVED}',
          channels: ['hook'],
        },
      ],
    };
    expect(schema.safeParse(minimal).error?.issues).toBeUndefined();
  });
});

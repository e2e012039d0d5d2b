// unpriced in alerts.yaml: located errors (exit 2), its defaults, and the warnings of keys it ignores.
import { describe, expect, it } from 'vitest';
import { configError, loadFixture } from './helpers.js';

describe('unpriced configuration', () => {
  it('refuses groupBy, a negative minTokens and explain, each located', async () => {
    const error = await configError(loadFixture('unpriced-checks.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path, issue.message])).toEqual([
      [8, 'alerts[0].groupBy', 'an unpriced alert has one series per model: groupBy does not go with it'],
      [12, 'alerts[1].unpriced.minTokens', expect.any(String)],
      [17, 'alerts[2].explain', 'unpriced notifications list no contributors; remove explain'],
    ]);
  });

  it('defaults minTokens and ignore, and warns that minSpend and sendResolved have no effect', async () => {
    const { config, warnings } = await loadFixture('unpriced-warnings.yaml');
    expect(warnings.map((warning) => [warning.line, warning.path])).toEqual([
      [8, 'alerts[0].minSpend'],
      [9, 'alerts[0].sendResolved'],
    ]);
    expect(warnings[0]!.message).toBe('minSpend has no effect on an unpriced alert: it fires on tokens without cost, and never resolves');
    expect(config.alerts[0]!.unpriced).toEqual({ minTokens: 500, ignore: [] });
  });
});

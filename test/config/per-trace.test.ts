// perTrace in alerts.yaml: located errors (exit 2) and the warnings of keys it ignores.
import { describe, expect, it } from 'vitest';
import { configError, loadFixture } from './helpers.js';

describe('perTrace configuration', () => {
  it('refuses groupBy, a top outside 1–1000 and a missing threshold, each located', async () => {
    const error = await configError(loadFixture('per-trace-checks.yaml'));
    expect(error.issues.map((issue) => [issue.line, issue.path])).toEqual([
      [8, 'alerts[0].groupBy'],
      [12, 'alerts[1].perTrace.top'],
      [16, 'alerts[2].perTrace.top'],
      [20, 'alerts[3].perTrace'], // a missing key points at its parent
    ]);
    expect(error.issues[0]!.message).toBe('a perTrace alert has one series per trace: groupBy does not go with it');
    expect(error.format()).toMatch(/per-trace-checks\.yaml:8:\d+ alerts\[0\]\.groupBy/);
  });

  it('warns that sendResolved and resolveBelow have no effect: a runaway trace never resolves', async () => {
    const { config, warnings } = await loadFixture('per-trace-warnings.yaml');
    expect(warnings.map((warning) => [warning.line, warning.path, warning.message])).toEqual([
      [8, 'alerts[0].sendResolved', 'sendResolved has no effect on a perTrace alert: a runaway trace never resolves'],
      [9, 'alerts[0].resolveBelow', 'resolveBelow has no effect on a perTrace alert: a runaway trace never resolves'],
    ]);
    expect(config.alerts[0]!.perTrace).toEqual({ threshold: 10, top: 20 });
  });
});

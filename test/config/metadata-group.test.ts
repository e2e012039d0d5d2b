// `groupBy: metadata.KEY` and `values`: what the configuration accepts, and located errors for
// what it doesn't (file:line:col and path), all reported at once.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configError, LANGFUSE_ENV } from './helpers.js';

const load = (alerts: string[]) =>
  loadConfig({
    path: 'alerts.yaml',
    text: ['channels:', '  ops: { type: console }', 'alerts:', ...alerts, ''].join('\n'),
    env: LANGFUSE_ENV,
    needs: 'all',
  });

const alert = (name: string, ...lines: string[]) => [`  - name: ${name}`, '    window: day', '    threshold: 10', '    channels: [ops]', ...lines];

describe('groupBy metadata.KEY', () => {
  it('accepts 1–50 distinct values, with threshold and relative rules, and other metadata filters', async () => {
    const fifty = Array.from({ length: 50 }, (_, i) => `v${i}`).join(', ');
    const { config, warnings } = await load([
      ...alert('by-agent', '    groupBy: metadata.agent_type', '    values: [auditor, writer]', '    filters: { metadata: { team: a } }'),
      ...alert('fifty', '    groupBy: metadata.tenant', `    values: [${fifty}]`),
      '  - name: spike',
      '    window: day',
      '    relative: { factor: 2, baseline: 7 }',
      '    groupBy: metadata.agent_type',
      '    values: ["1"]',
      '    channels: [ops]',
    ]);
    expect(warnings).toEqual([]);
    expect(config.alerts.map((a) => [a.groupBy, a.values?.length])).toEqual([
      ['metadata.agent_type', 2],
      ['metadata.tenant', 50],
      ['metadata.agent_type', 1],
    ]);
  });

  it('refuses a missing values list, values without metadata.*, duplicates, more than 50, an empty key, and a filter on the same key', async () => {
    const fiftyOne = Array.from({ length: 51 }, (_, i) => `v${i}`).join(', ');
    const error = await configError(
      load([
        ...alert('missing', '    groupBy: metadata.agent_type'), // alerts[0]: lines 4–8
        ...alert('no-group', '    values: [auditor]'), // alerts[1]: 9–13
        ...alert('by-model', '    groupBy: model', '    values: [gpt-4o]'), // alerts[2]: 14–19
        ...alert('twice', '    groupBy: metadata.agent_type', '    values: [auditor, writer, auditor]'), // alerts[3]: 20–25
        ...alert('too-many', '    groupBy: metadata.agent_type', `    values: [${fiftyOne}]`), // alerts[4]: 26–31
        ...alert('no-key', '    groupBy: metadata.', '    values: [a]'), // alerts[5]: 32–37
        ...alert('both', '    groupBy: metadata.agent_type', '    values: [a]', '    filters: { metadata: { agent_type: a } }'), // alerts[6]: 38–44
        ...alert('not-text', '    groupBy: metadata.agent_type', '    values: [7, ""]'), // alerts[7]: 45–50
        ...alert('typo', '    groupBy: metdata.agent_type'), // alerts[8]: 51–55
      ]),
    );
    expect(error.format().split('\n')).toEqual([
      "alerts.yaml:8:14 alerts[0].groupBy: metadata.agent_type needs values: the agent_type values to watch, one series each (Langfuse filters on metadata but can't group by it)",
      "alerts.yaml:13:13 alerts[1].values: values only goes with groupBy: metadata.<key>, whose values Langfuse can't list (no groupBy here)",
      "alerts.yaml:19:13 alerts[2].values: values only goes with groupBy: metadata.<key>, whose values Langfuse can't list (groupBy here is model)",
      'alerts.yaml:25:31 alerts[3].values[2]: duplicate value "auditor" (values[0] has it too); values must be distinct',
      'alerts.yaml:31:13 alerts[4].values: may have at most 50 items',
      'alerts.yaml:36:14 alerts[5].groupBy: metadata. needs a key: groupBy: metadata.agent_type',
      'alerts.yaml:44:40 alerts[6].filters.metadata.agent_type: groupBy: metadata.agent_type reads each of its values already: drop this filter, or list only the values you want under values',
      'alerts.yaml:50:14 alerts[7].values[0]: must be text, not the number 7 (quote it: "7")',
      'alerts.yaml:50:17 alerts[7].values[1]: must not be empty',
      'alerts.yaml:55:14 alerts[8].groupBy: must be one of model, traceName, userId, environment, release, or metadata.<key>, not the text "metdata.agent_type"',
    ]);
  });
});

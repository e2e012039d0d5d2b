// check, run and demo evaluate through the one engine: each, as a real process, ends an
// evaluation with the same summary line, fields and all, written by the engine's tick.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { isEvaluation, startCli, type LogLine } from '../support/cli-process.js';
import { BUDGET, useRunFixture } from '../support/run-fixture.js';

const f = useRunFixture();

const SUMMARY_FIELDS = [
  'alerts',
  'alertsEvaluated',
  'alertsFailed',
  'alertsWaiting',
  'deliveryFailures',
  'evaluatedAt',
  'event',
  'firing',
  'langfuseRequests',
  'ms',
  'notificationsPlanned',
  'notificationsSent',
];
const LOGGER_FIELDS = new Set(['level', 'time', 'msg']);
/** the summary's own fields, without the logger's */
const summaryFields = (line: LogLine) => Object.keys(line).filter((key) => !LOGGER_FIELDS.has(key)).sort();

test('check, run and demo each write the one summary line of the engine, with the same fields', async () => {
  const configFile = join(f.dir, 'alerts.yaml');
  await writeFile(configFile, f.config(BUDGET));

  const check = startCli({ args: ['check', '--config', configFile, '--state-dir', join(f.dir, 'check-state')] });
  expect((await check.exited).code).toBe(0);
  const checked = check.logs.filter(isEvaluation);

  await f.run(f.config(BUDGET));
  const ran = [await f.daemon.waitForLog(isEvaluation, 'the first scheduled evaluation')];
  await f.daemon.kill();

  const demo = startCli({ args: ['demo'] });
  expect((await demo.exited).code).toBe(0);
  const demoed = demo.logs.filter(isEvaluation);

  expect(checked).toHaveLength(1);
  // the demo evaluates twice: the second sends nothing new
  expect(demoed).toHaveLength(2);
  for (const line of [...checked, ...ran, ...demoed]) expect(summaryFields(line)).toEqual(SUMMARY_FIELDS);
  // the same alert, fetched and delivered alike by check and run
  for (const line of [checked[0]!, ran[0]!]) {
    expect(line).toMatchObject({ alerts: ['budget'], alertsEvaluated: 1, firing: 1, notificationsSent: 1, deliveryFailures: 0 });
    expect(line['langfuseRequests']).toBeGreaterThan(0);
  }
  expect(demoed[0]!['notificationsSent']).toBeGreaterThan(0);
  expect(demoed[1]).toMatchObject({ notificationsPlanned: 0, notificationsSent: 0 });
}, 60_000);

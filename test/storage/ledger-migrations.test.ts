// The saved state's migrations: a file of an older version is brought up to this build's version
// on read, entry by entry; one of a newer version (a downgrade) is refused rather than guessed at.
import { expect, test } from 'vitest';
import { emptyState, migrate, parseState, STATE_MIGRATIONS, STATE_VERSION, StateVersionError, type Migration } from '../../src/core/ledger.js';

test('the migrations end at the version this build writes', () => {
  expect(STATE_MIGRATIONS.length + 1).toBe(STATE_VERSION);
  expect(parseState(JSON.stringify(emptyState()))).toEqual(emptyState());
});

// A synthetic history: version 2 renamed `projects` to `links`, version 3 added `notes`.
const renameProjects: Migration = ({ projects, ...rest }) => ({ ...rest, links: projects });
const addNotes: Migration = (data) => ({ ...data, notes: [] });

test('a file of an older version goes through every migration after it, in order, and carries the new version', () => {
  const v1 = { version: 1, projects: { a: 'p1' } };
  expect(migrate(v1, [renameProjects, addNotes])).toEqual({ version: 3, links: { a: 'p1' }, notes: [] });
  expect(migrate({ version: 2, links: {} }, [renameProjects, addNotes])).toEqual({ version: 3, links: {}, notes: [] });
  expect(migrate({ version: 3, links: {}, notes: [] }, [renameProjects, addNotes])).toEqual({ version: 3, links: {}, notes: [] });
});

test('a file of the current version is not migrated at all', () => {
  const state = { version: 1, projects: {} };
  expect(migrate(state, [])).toBe(state);
});

test.each([
  ['newer', 4],
  ['older than any migration knows', 0],
  ['missing', undefined],
  ['not a number', '1'],
])('a version that is %s is refused, naming both versions', (_name, version) => {
  expect(() => migrate({ version }, [renameProjects, addNotes])).toThrow(StateVersionError);
  expect(() => migrate({ version }, [renameProjects, addNotes])).toThrow(`the state file has version ${String(version)}; this build reads version 3 `);
});

test('a newer state file is refused by parseState before its shape is looked at', () => {
  expect(() => parseState(JSON.stringify({ ...emptyState(), version: STATE_VERSION + 1, unknownField: true }))).toThrow(StateVersionError);
});

test('a version 1 file (with the Langfuse pause that the request quota now keeps alone) reads as the current version without it', () => {
  const { version: _current, langfuse, ...rest } = emptyState();
  const v1 = { version: 1, ...rest, langfuse: { ...langfuse, failures: 2, blockedUntil: '2026-11-25T15:00:00.000Z' } };
  expect(parseState(JSON.stringify(v1))).toEqual({ ...emptyState(), langfuse: { ...langfuse, failures: 2 } });
  // a version 1 file of the wrong shape is still refused by the schema after its migration
  expect(() => parseState(JSON.stringify({ ...v1, langfuse: 'down' }))).toThrow('the state file is not of the expected shape: langfuse: expected object');
});

test('a version 2 file (one last evaluation) reads with that evaluation as the only one kept', () => {
  const { version: _current, evaluations: _none, ...rest } = emptyState();
  const last = { at: '2026-11-25T15:00:00.000Z', ok: false, alertsEvaluated: 3, firing: 1, notificationsSent: 0, errors: ['slack: HTTP 500'] };
  expect(parseState(JSON.stringify({ version: 2, ...rest, lastEvaluation: last }))).toEqual({ ...emptyState(), evaluations: [last] });
  expect(parseState(JSON.stringify({ version: 2, ...rest, lastEvaluation: null }))).toEqual(emptyState());
  // an evaluation of the wrong shape is still refused after its migration
  expect(() => parseState(JSON.stringify({ version: 2, ...rest, lastEvaluation: 'yesterday' }))).toThrow(
    'the state file is not of the expected shape: evaluations.0: expected object',
  );
});

test('a version 3 file (before digests) reads with no digest sent yet', () => {
  const { version: _current, digests: _none, ...rest } = emptyState();
  expect(parseState(JSON.stringify({ version: 3, ...rest }))).toEqual({ ...emptyState(), digests: {} });
  // and a digest record that isn't a time is refused
  expect(() => parseState(JSON.stringify({ ...emptyState(), digests: { weekly: 7 } }))).toThrow('the state file is not of the expected shape: digests.*: expected string');
});

// The plan of `models diff|apply` (src/core/models.ts): what the file's models need in a project,
// pure, from the models Langfuse lists.
import { describe, expect, test } from 'vitest';
import { hasChanges, isPricedAtZero, matchPatternProblem, planModels, type ModelDefinition, type ProjectModel } from '../../src/core/models.js';

const file = (modelName: string, fields: Partial<ModelDefinition> = {}): ModelDefinition => ({
  modelName,
  matchPattern: `(?i)^(${modelName})$`,
  unit: 'TOKENS',
  inputPrice: 1e-6,
  outputPrice: 2e-6,
  ...fields,
});

let ids = 0;
const listed = (model: ModelDefinition, fields: Partial<ProjectModel> = {}): ProjectModel => ({
  id: `id-${++ids}`,
  modelName: model.modelName,
  matchPattern: model.matchPattern,
  unit: model.unit,
  inputPrice: model.inputPrice ?? null,
  outputPrice: model.outputPrice ?? null,
  totalPrice: model.totalPrice ?? null,
  startDate: model.startDate ?? null,
  tokenizerId: model.tokenizerId ?? null,
  isLangfuseManaged: false,
  ...fields,
});

describe('planModels', () => {
  test('create, replace with the changed fields, unchanged — in the order of the file', () => {
    const plan = planModels(
      [file('new-model'), file('changed', { outputPrice: 3e-6, tokenizerId: 'openai' }), file('same')],
      [listed(file('changed')), listed(file('same'))],
    );
    expect(plan.changes.map((change) => [change.action, change.model.modelName])).toEqual([
      ['create', 'new-model'],
      ['replace', 'changed'],
      ['unchanged', 'same'],
    ]);
    expect(plan.changes[1]).toMatchObject({
      changes: [
        { field: 'outputPrice', from: 2e-6, to: 3e-6 },
        { field: 'tokenizerId', from: null, to: 'openai' },
      ],
    });
    expect(hasChanges(plan)).toBe(true);
  });

  test('prices within 1e-12 relative are equal, beyond it not; an absent price is null; start dates compare as instants', () => {
    const model = file('m', { inputPrice: 0.3, startDate: '2026-12-01T01:00:00+01:00' });
    const within = listed(model, { inputPrice: 0.1 + 0.2, startDate: '2026-12-01T00:00:00.000Z' });
    expect(planModels([model], [within]).changes[0]!.action).toBe('unchanged');
    const beyond = listed(model, { inputPrice: 0.3 * (1 + 1e-11), startDate: '2026-12-01T00:00:00.000Z' });
    expect(planModels([model], [beyond]).changes[0]).toMatchObject({ action: 'replace', changes: [{ field: 'inputPrice' }] });
    const withTotal = listed(model, { totalPrice: 0, startDate: '2026-12-01T00:00:00.000Z' });
    expect(planModels([model], [withTotal]).changes[0]).toMatchObject({ action: 'replace', changes: [{ field: 'totalPrice', from: 0, to: null }] });
    expect(planModels([file('zero', { inputPrice: 0 })], [listed(file('zero', { inputPrice: 0 }))]).changes[0]!.action).toBe('unchanged');
  });

  test("Langfuse's own model of a name is no project model: a create (an override), and never listed as untouched", () => {
    const managed = listed(file('gpt-4o'), { isLangfuseManaged: true });
    const plan = planModels([file('gpt-4o')], [managed, listed(file('claude-x'), { isLangfuseManaged: true })]);
    expect(plan.changes.map((change) => change.action)).toEqual(['create']);
    expect(plan.untouched).toEqual([]);
  });

  test('project models the file does not name are untouched; several of one name are all replaced, even when the first is equal', () => {
    const foreign = listed(file('foreign'));
    const twins = [listed(file('twin')), listed(file('twin'))];
    const plan = planModels([file('twin')], [foreign, ...twins]);
    expect(plan.untouched).toEqual([foreign]);
    expect(plan.changes[0]).toEqual({ action: 'replace', model: file('twin'), current: twins, changes: [] });
  });

  test('nothing to change: an empty file and a project of only foreign models', () => {
    const plan = planModels([], [listed(file('foreign'))]);
    expect(hasChanges(plan)).toBe(false);
    expect(plan.untouched).toHaveLength(1);
  });
});

test('isPricedAtZero: every price given is 0, and at least one is given', () => {
  expect(isPricedAtZero({ inputPrice: 0, outputPrice: 0 })).toBe(true);
  expect(isPricedAtZero({ totalPrice: 0 })).toBe(true);
  expect(isPricedAtZero({ inputPrice: 0, outputPrice: 1e-9 })).toBe(false);
  expect(isPricedAtZero({})).toBe(false);
});

test('matchPatternProblem: a leading (?i) is the i flag; any other inline flag or broken pattern is a problem', () => {
  expect(matchPatternProblem('(?i)^(openai/)?(gpt-4o)$')).toBeNull();
  expect(matchPatternProblem('^gpt-4o$')).toBeNull();
  expect(matchPatternProblem('(?i)(unclosed')).toMatch(/Unterminated group/);
  expect(matchPatternProblem('^a(?i)b$')).toMatch(/Invalid group/);
});

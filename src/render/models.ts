// What `models diff` and `models apply` print. Model names and patterns come from Langfuse (and
// from alerts.yaml): every one is shown on one line with its control characters escaped.
import type { AppliedAction, FieldChange, ModelChange, ModelDefinition, ModelPlan, ProjectModel } from '../core/models.js';
import { cleanLine } from './text.js';

const PRICE_FIELDS = ['inputPrice', 'outputPrice', 'totalPrice'] as const;

/** a compared value: a price as a number, text quoted, `(none)` when not set */
function value(of: FieldChange['from']): string {
  if (of === null) return '(none)';
  return typeof of === 'number' ? String(of) : JSON.stringify(cleanLine(of));
}

/** `gpt-4o (?i)^(gpt-4o)$ TOKENS input 0.0000025 output 0.00001` */
export function describeModel(model: ModelDefinition | ProjectModel): string {
  const prices = PRICE_FIELDS.flatMap((field) => {
    const price = model[field];
    return price === null || price === undefined ? [] : [`${field.replace('Price', '')} ${price}`];
  });
  const extras = [
    ...(model.startDate ? [`from ${cleanLine(model.startDate)}`] : []),
    ...(model.tokenizerId ? [`tokenizer ${cleanLine(model.tokenizerId)}`] : []),
  ];
  return [cleanLine(model.modelName), cleanLine(model.matchPattern), cleanLine(model.unit ?? '(no unit)'), ...prices, ...extras].join('  ');
}

function changeLines(change: ModelChange): string[] {
  switch (change.action) {
    case 'create':
      return [`  create     ${describeModel(change.model)}`];
    case 'unchanged':
      return [`  unchanged  ${cleanLine(change.model.modelName)}`];
    case 'replace': {
      const several = change.current.length > 1 ? [`      ${change.current.length} project models of this name: all deleted, one created`] : [];
      return [
        `  replace    ${cleanLine(change.model.modelName)}`,
        ...change.changes.map(({ field, from, to }) => `      ${field}: ${value(from)} → ${value(to)}`),
        ...several,
      ];
    }
  }
}

export function renderModelPlan(plan: ModelPlan): string {
  const count = (action: ModelChange['action']): number => plan.changes.filter((change) => change.action === action).length;
  const lines = [
    `${count('create')} to create, ${count('replace')} to replace, ${count('unchanged')} unchanged (${plan.changes.length} in alerts.yaml)`,
    ...plan.changes.flatMap(changeLines),
  ];
  if (plan.untouched.length > 0) {
    const names = plan.untouched.map((model) => cleanLine(model.modelName));
    lines.push(`${plan.untouched.length} project model${plan.untouched.length === 1 ? '' : 's'} not in alerts.yaml (left alone): ${names.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}

/** One line per write `models apply` made. */
export function renderApplied(done: AppliedAction): string {
  if (done.action === 'deleted') {
    return `  deleted    ${cleanLine(done.model.modelName)} (id ${cleanLine(done.model.id)}${done.absent ? ', gone already' : ''})`;
  }
  return `  created    ${describeModel(done.model)} (id ${cleanLine(done.model.id)}${done.replacing ? ', replacing the one deleted' : ''})`;
}

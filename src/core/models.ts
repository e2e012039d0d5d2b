// Model prices as code: the `models:` of alerts.yaml against the models a Langfuse project has.
// The plan is pure (what `models diff` shows); `models apply` carries it out (src/engine/models.ts).
// Only project models of a name the file gives are ever replaced; the project's other models and
// Langfuse's own catalogue are left alone (a file model named like a catalogue model is a create:
// Langfuse prefers a project's model over its own of the same name).

/** The units Langfuse prices by (its `ModelUsageUnit`). */
export const MODEL_UNITS = ['TOKENS', 'CHARACTERS', 'MILLISECONDS', 'SECONDS', 'REQUESTS', 'IMAGES'] as const;
export type ModelUnit = (typeof MODEL_UNITS)[number];
export const DEFAULT_MODEL_UNIT: ModelUnit = 'TOKENS';

/** A model of alerts.yaml, which is also what a model is created with: flat prices, no pricingTiers. */
export interface ModelDefinition {
  readonly modelName: string;
  readonly matchPattern: string;
  readonly unit: ModelUnit;
  readonly inputPrice?: number | undefined;
  readonly outputPrice?: number | undefined;
  readonly totalPrice?: number | undefined;
  readonly startDate?: string | undefined;
  readonly tokenizerId?: string | undefined;
}

/** A model as Langfuse lists it: the flat prices of its default pricing tier, null where none. */
export interface ProjectModel {
  readonly id: string;
  readonly modelName: string;
  readonly matchPattern: string;
  readonly unit: string | null;
  readonly inputPrice: number | null;
  readonly outputPrice: number | null;
  readonly totalPrice: number | null;
  readonly startDate: string | null;
  readonly tokenizerId: string | null;
  /** Langfuse's own catalogue: never deleted, never compared */
  readonly isLangfuseManaged: boolean;
}

export const COMPARED_FIELDS = ['modelName', 'matchPattern', 'unit', 'inputPrice', 'outputPrice', 'totalPrice', 'startDate', 'tokenizerId'] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

export interface FieldChange {
  readonly field: ComparedField;
  /** null: not set */
  readonly from: string | number | null;
  readonly to: string | number | null;
}

export type ModelChange =
  | { readonly action: 'create'; readonly model: ModelDefinition }
  /**
   * `current`: every project model of the name, all deleted before the one of the file is
   * created (Langfuse refuses a second model of a name, so there is normally one)
   */
  | { readonly action: 'replace'; readonly model: ModelDefinition; readonly current: readonly ProjectModel[]; readonly changes: readonly FieldChange[] }
  | { readonly action: 'unchanged'; readonly model: ModelDefinition; readonly current: ProjectModel };

export interface ModelPlan {
  /** one per model of the file, in its order */
  readonly changes: readonly ModelChange[];
  /** the project's own models the file doesn't name: listed, never touched */
  readonly untouched: readonly ProjectModel[];
}

/** A write `models apply` made, once Langfuse confirmed it. */
export type AppliedAction =
  | { readonly action: 'created'; readonly model: ProjectModel; readonly replacing: boolean }
  /** `absent`: gone already (an earlier try whose answer was lost) */
  | { readonly action: 'deleted'; readonly model: ProjectModel; readonly absent: boolean };

/** Prices are equal within this relative difference (a price read back as a float is not the text written). */
const PRICE_TOLERANCE = 1e-12;

export function planModels(file: readonly ModelDefinition[], project: readonly ProjectModel[]): ModelPlan {
  const custom = project.filter((model) => !model.isLangfuseManaged);
  const named = new Set(file.map((model) => model.modelName));
  const changes = file.map((model): ModelChange => {
    const current = custom.filter((existing) => existing.modelName === model.modelName);
    if (current.length === 0) return { action: 'create', model };
    const changed = fieldChanges(current[0]!, model);
    if (current.length === 1 && changed.length === 0) return { action: 'unchanged', model, current: current[0]! };
    return { action: 'replace', model, current, changes: changed };
  });
  return { changes, untouched: custom.filter((model) => !named.has(model.modelName)) };
}

export function hasChanges(plan: ModelPlan): boolean {
  return plan.changes.some((change) => change.action !== 'unchanged');
}

function fieldChanges(current: ProjectModel, wanted: ModelDefinition): FieldChange[] {
  return COMPARED_FIELDS.flatMap((field): FieldChange[] => {
    const from = current[field] ?? null;
    const to = wanted[field] ?? null;
    return sameValue(field, from, to) ? [] : [{ field, from, to }];
  });
}

function sameValue(field: ComparedField, from: string | number | null, to: string | number | null): boolean {
  if (from === null || to === null) return from === to;
  if (typeof from === 'number' && typeof to === 'number') return Math.abs(from - to) <= PRICE_TOLERANCE * Math.max(Math.abs(from), Math.abs(to));
  // Langfuse answers a start date in UTC with milliseconds; the file may give another offset
  if (field === 'startDate') return Date.parse(String(from)) === Date.parse(String(to));
  return from === to;
}

/** A model the file prices at 0 in every price it gives: free on purpose, never "unpriced". */
export function isPricedAtZero(model: Pick<ModelDefinition, 'inputPrice' | 'outputPrice' | 'totalPrice'>): boolean {
  const prices = [model.inputPrice, model.outputPrice, model.totalPrice].filter((price) => price !== undefined);
  return prices.length > 0 && prices.every((price) => price === 0);
}

/**
 * Langfuse's own patterns start with `(?i)` (case-insensitive, Postgres's spelling); JavaScript has
 * no inline flag, so the rest is what is checked, with the `i` flag. The reason it isn't a valid
 * regular expression, or null.
 */
export function matchPatternProblem(pattern: string): string | null {
  const caseInsensitive = pattern.startsWith('(?i)');
  try {
    new RegExp(caseInsensitive ? pattern.slice(4) : pattern, caseInsensitive ? 'i' : '');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

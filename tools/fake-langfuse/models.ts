// The Models API of the fake Langfuse (`GET/POST /api/public/models`, `GET/DELETE
// /api/public/models/{id}`), answering as the recorded server did (cases l1–l11 of
// test/fixtures/langfuse/cases.json): Langfuse's catalogue (isLangfuseManaged, never deletable) and
// the project's own models, listed together by name, 1-based pages.

/** A model of Langfuse's catalogue as builtin-models.json holds it. */
export interface CatalogueModel {
  readonly id: string;
  readonly modelName: string;
  readonly matchPattern: string;
  readonly unit: string;
  readonly tokenizerId?: string | null;
  readonly tokenizerConfig?: unknown;
  readonly startDate?: string | null;
  readonly pricingTiers: ReadonlyArray<PricingTier>;
}

interface PricingTier {
  readonly id: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly priority: number;
  readonly conditions: readonly unknown[];
  readonly prices: Readonly<Record<string, number>>;
}

interface StoredModel extends CatalogueModel {
  readonly createdAt: string;
  readonly isLangfuseManaged: boolean;
}

export interface ModelAnswer {
  readonly status: number;
  readonly body: unknown;
}

const UNITS = ['TOKENS', 'CHARACTERS', 'MILLISECONDS', 'SECONDS', 'REQUESTS', 'IMAGES'];
const DEFAULT_PAGE_SIZE = 50;
const NOT_FOUND = 'No model with this id found.';
const NOT_DELETABLE = `${NOT_FOUND} Note: You cannot delete built-in models, override them with a model with the same name.`;
const FLAT_OR_TIERS = 'Must provide either flat prices (inputPrice/outputPrice/totalPrice) OR pricingTiers';
const FLAT_PRICES = { inputPrice: 'input', outputPrice: 'output', totalPrice: 'total' } as const;

const notFound = (message: string): ModelAnswer => ({ status: 404, body: { message, error: 'LangfuseNotFoundError' } });
const invalid = (error: unknown[]): ModelAnswer => ({ status: 400, body: { message: 'Invalid request data', error } });

export class ModelStore {
  private readonly models: StoredModel[];
  private created = 0;

  constructor(
    managed: readonly CatalogueModel[],
    private readonly clock: () => Date,
  ) {
    const seededAt = clock().toISOString();
    this.models = managed.map((model) => ({ ...model, createdAt: seededAt, isLangfuseManaged: true }));
  }

  /** the project's own models, as answered */
  custom(): unknown[] {
    return this.models.filter((model) => !model.isLangfuseManaged).map(present);
  }

  list(params: URLSearchParams): ModelAnswer {
    const page = positive(params.get('page')) ?? 1;
    const limit = positive(params.get('limit')) ?? DEFAULT_PAGE_SIZE;
    const sorted = [...this.models].sort((a, b) => (a.modelName < b.modelName ? -1 : a.modelName > b.modelName ? 1 : 0));
    return {
      status: 200,
      body: {
        data: sorted.slice((page - 1) * limit, page * limit).map(present),
        meta: { page, limit, totalItems: sorted.length, totalPages: Math.ceil(sorted.length / limit) },
      },
    };
  }

  get(id: string): ModelAnswer {
    const model = this.models.find((candidate) => candidate.id === id);
    return model ? { status: 200, body: present(model) } : notFound(NOT_FOUND);
  }

  delete(id: string): ModelAnswer {
    const index = this.models.findIndex((candidate) => candidate.id === id && !candidate.isLangfuseManaged);
    if (index < 0) return notFound(NOT_DELETABLE);
    this.models.splice(index, 1);
    return { status: 200, body: { message: 'Model successfully deleted' } };
  }

  create(body: unknown): ModelAnswer {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const issues = [
      ...(['modelName', 'matchPattern'] as const).flatMap((key) =>
        typeof input[key] === 'string'
          ? []
          : [{ expected: 'string', code: 'invalid_type', path: [key], message: `Invalid input: expected string, received ${describeType(input[key])}` }],
      ),
      ...(UNITS.includes(input['unit'] as string)
        ? []
        : [
            {
              code: 'invalid_value',
              values: UNITS,
              path: ['unit'],
              message: `Invalid option: expected one of ${UNITS.map((unit) => JSON.stringify(unit)).join('|')}`,
            },
          ]),
    ];
    if (issues.length > 0) return invalid(issues);
    const flat = Object.entries(FLAT_PRICES).filter(([key]) => typeof input[key] === 'number');
    if ((flat.length > 0) === Array.isArray(input['pricingTiers'])) return invalid([{ code: 'custom', message: FLAT_OR_TIERS, path: [] }]);
    if (flat.length === 0) return invalid([{ code: 'custom', message: 'pricingTiers are not supported by the fake', path: ['pricingTiers'] }]);
    const modelName = input['modelName'] as string;
    if (this.models.some((model) => !model.isLangfuseManaged && model.modelName === modelName)) {
      return { status: 400, body: { message: `Model name '${modelName}' already exists in project`, error: 'InvalidRequestError' } };
    }
    this.created += 1;
    const id = `cfake${String(this.created).padStart(20, '0')}`;
    const model: StoredModel = {
      id,
      createdAt: this.clock().toISOString(),
      modelName,
      matchPattern: input['matchPattern'] as string,
      unit: input['unit'] as string,
      startDate: typeof input['startDate'] === 'string' ? new Date(input['startDate']).toISOString() : null,
      tokenizerId: typeof input['tokenizerId'] === 'string' ? input['tokenizerId'] : null,
      tokenizerConfig: input['tokenizerConfig'] ?? null,
      isLangfuseManaged: false,
      pricingTiers: [
        {
          id: `${id}_tier_default`,
          name: 'Standard',
          isDefault: true,
          priority: 0,
          conditions: [],
          prices: Object.fromEntries(flat.map(([key, usageType]) => [usageType, input[key] as number])),
        },
      ],
    };
    this.models.push(model);
    return { status: 200, body: present(model) };
  }
}

/** A model as Langfuse answers it: the default tier's prices also as flat fields and as `prices`. */
function present(model: StoredModel): Record<string, unknown> {
  const prices = model.pricingTiers.find((tier) => tier.isDefault)?.prices ?? {};
  return {
    id: model.id,
    createdAt: model.createdAt,
    modelName: model.modelName,
    matchPattern: model.matchPattern,
    startDate: model.startDate ?? null,
    tokenizerId: model.tokenizerId ?? null,
    tokenizerConfig: model.tokenizerConfig ?? null,
    unit: model.unit,
    inputPrice: prices['input'] ?? null,
    outputPrice: prices['output'] ?? null,
    totalPrice: prices['total'] ?? null,
    prices: Object.fromEntries(Object.entries(prices).map(([usageType, price]) => [usageType, { price }])),
    isLangfuseManaged: model.isLangfuseManaged,
    pricingTiers: model.pricingTiers,
  };
}

function positive(value: string | null): number | undefined {
  return value !== null && /^[1-9]\d*$/.test(value) ? Number(value) : undefined;
}

function describeType(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

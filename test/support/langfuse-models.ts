// Langfuse's own model catalogue (test/fixtures/langfuse/builtin-models.json, 167 models), which the
// fake Langfuse lists as isLangfuseManaged, and custom models to seed a project with.
import { readFileSync } from 'node:fs';
import type { CatalogueModel } from '../../tools/fake-langfuse/server.js';
import { loadRecording } from './langfuse-dataset.js';

export function builtinModels(): CatalogueModel[] {
  return JSON.parse(readFileSync(new URL('../fixtures/langfuse/builtin-models.json', import.meta.url), 'utf8')) as CatalogueModel[];
}

/** A `POST /api/public/models` body with flat per-token prices, named and matched exactly. */
export function customModel(modelName: string, inputPrice: number, outputPrice: number): Record<string, unknown> {
  return { modelName, matchPattern: `(?i)^(${modelName})$`, unit: 'TOKENS', inputPrice, outputPrice };
}

/** What Langfuse answered a model created without `unit` (case l4 of the recording): a schema error. */
export function recordedMissingUnitAnswer(): unknown {
  return loadRecording().cases.find((recorded) => recorded.name.startsWith('l4.'))!.body;
}

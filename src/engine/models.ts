// `models apply`: the plan of src/core/models.ts carried out through the Models API, one action
// after another, each reported as it is done. A replace deletes before it creates, because
// Langfuse refuses a second model of a name: when the create then fails, the next run finds no
// model of the name and plans a create, so running apply again always finishes the job.
import type { AppliedAction, ModelDefinition, ModelPlan, ProjectModel } from '../core/models.js';

export interface ModelsApi {
  createModel(model: ModelDefinition): Promise<ProjectModel>;
  deleteModel(id: string): Promise<'deleted' | 'absent'>;
}

/** Every write of the plan, in the file's order; `done` hears each one once Langfuse confirmed it. */
export async function applyModelPlan(plan: ModelPlan, api: ModelsApi, done: (action: AppliedAction) => void): Promise<void> {
  for (const change of plan.changes) {
    if (change.action === 'unchanged') continue;
    if (change.action === 'replace') {
      for (const model of change.current) done({ action: 'deleted', model, absent: (await api.deleteModel(model.id)) === 'absent' });
    }
    done({ action: 'created', model: await api.createModel(change.model), replacing: change.action === 'replace' });
  }
}

// `spend-alerts models diff|apply`: the prices of `models:` in alerts.yaml against the project's
// models in Langfuse. Only the langfuse block and `models:` are needed (no channel secrets), and the
// Models API goes around the request budget: Langfuse limits it apart from the Metrics API.
import { hasChanges, planModels, type ModelPlan } from '../../core/models.js';
import { applyModelPlan } from '../../engine/models.js';
import { renderApplied, renderModelPlan } from '../../render/models.js';
import { LangfuseError } from '../../sources/langfuse/client.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { langfuseClient, logConfigWarnings, prepare, RuntimeError, type Io } from '../compose.js';

export async function modelsCommand(options: CliOptions, io: Io, _startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  const { action, exitCode } = options.models;
  const prepared = await prepare(options, io, { channels: [], langfuse: true });
  const { config, log, redact } = prepared;
  logConfigWarnings(prepared);
  const client = langfuseClient(config, log, { transport: io.transport, clock, sleep: io.sleep });
  const failed = (error: unknown, progress = ''): never => {
    if (error instanceof LangfuseError) throw new RuntimeError(`models ${action}: ${redact(error.message)}${progress}`);
    throw error;
  };

  let plan: ModelPlan;
  try {
    plan = planModels(config.models, await client.listModels());
  } catch (error) {
    return failed(error);
  }
  if (action === 'diff') {
    io.stdout.write(renderModelPlan(plan));
    return exitCode && hasChanges(plan) ? 'changes' : 'ok';
  }

  const writes = plan.changes.filter((change) => change.action !== 'unchanged').length;
  io.stdout.write(writes === 0 ? `nothing to change: Langfuse has the ${plan.changes.length} model(s) of alerts.yaml\n` : renderModelPlan(plan));
  let done = 0;
  try {
    await applyModelPlan(plan, client, (applied) => {
      if (applied.action === 'created') done += 1;
      io.stdout.write(renderApplied(applied) + '\n');
    });
  } catch (error) {
    return failed(error, ` (${done} of ${writes} model(s) applied; run models apply again to finish)`);
  }
  if (writes > 0) io.stdout.write(`applied: ${done} model(s) created or replaced\n`);
  io.stdout.write('Prices apply to generations ingested from now on, never to past ones.\n');
  return 'ok';
}

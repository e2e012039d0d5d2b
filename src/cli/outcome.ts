// Its own module so that the commands, which return it, and main, which maps it to an exit code
// and loads the commands, don't import each other.

/**
 * How a command ended: `failed` when it did its work but some of it went wrong (an alert not
 * evaluated, a channel that did not accept), having said so itself. Errors it throws are mapped
 * by failureExit. `changes`: `models diff --exit-code` found Langfuse differing from alerts.yaml.
 */
export type CommandOutcome = 'ok' | 'failed' | 'changes';

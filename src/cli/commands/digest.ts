// `spend-alerts digest [--name NAME] [--dry-run]`: every digest (or the one named) sent now, through
// the outbox as the daemon sends them, without touching the record of their schedule (the daemon
// still sends the next scheduled time). `--dry-run` prints what would be sent and sends nothing.
// Its Langfuse requests go through the shared request budget: when it can't admit a digest's
// report, that digest is not sent and the command exits 1.
import { resolve } from 'node:path';
import { makeDigest, sendDigest, type DigestDeps } from '../../engine/digest.js';
import { ReportRefused, ReportUnread } from '../../engine/report.js';
import { renderDigestPlain } from '../../render/digest.js';
import { StateStore } from '../../storage/state-store.js';
import { terminalSafe } from '../../util/terminal.js';
import type { CliOptions } from '../args.js';
import type { CommandOutcome } from '../outcome.js';
import { buildChannels, buildLangfuse, checkPolicy, closeChannels, logConfigWarnings, prepare, resolveLangfuseUrl, RuntimeError, type Io } from '../compose.js';

export async function digestCommand(options: CliOptions, io: Io, startedAt: Date, clock: () => Date): Promise<CommandOutcome> {
  const prepared = await prepare(options, io, 'all');
  const { config, log, redact } = prepared;
  logConfigWarnings(prepared);
  const defined = config.digests.map((digest) => digest.name);
  const digests = options.digestName === undefined ? config.digests : config.digests.filter((digest) => digest.name === options.digestName);
  if (digests.length === 0) {
    throw new RuntimeError(
      options.digestName === undefined
        ? 'digest: no digests are configured (add them under `digests:` in alerts.yaml)'
        : `digest: no digest named "${options.digestName}" (defined: ${defined.join(', ') || 'none'})`,
    );
  }
  const stateDir = resolve(io.cwd, options.stateDir);
  let requests = 0;
  const langfuse = await buildLangfuse(config, log, { stateDir, readOnly: false, onRequest: () => (requests += 1), transport: io.transport, clock });
  const channels = buildChannels(config, new Set(digests.flatMap((digest) => digest.channels)), io, clock);
  const store = new StateStore(stateDir);
  const deps: DigestDeps = {
    config,
    langfuse,
    channels,
    store,
    langfuseUrl: () => resolveLangfuseUrl(langfuse.client, config, store, log, !options.dryRun),
    log,
    redact,
    policy: checkPolicy(config),
    clock,
  };
  // on the second: the notification id names the time it was made for
  const scheduledFor = new Date(Math.floor(startedAt.getTime() / 1000) * 1000);
  let failed = false;
  try {
    for (const digest of digests) {
      if (options.dryRun) {
        const notification = await makeDigest(deps, digest, { scheduledFor, late: false });
        io.stdout.write(terminalSafe(`${notification.id} → ${digest.channels.join(', ')}\n\n${renderDigestPlain(notification)}\n`));
        continue;
      }
      const outcome = await sendDigest(deps, digest, { scheduledFor, late: false, record: false });
      if (outcome.kind !== 'sent') continue;
      io.stdout.write(terminalSafe(`digest ${digest.name}: sent to ${outcome.delivered.join(', ') || 'no channel'}\n`));
      for (const failure of outcome.failed) {
        failed = true;
        io.stderr.write(terminalSafe(`spend-alerts: digest ${digest.name}: ${failure.channel}: ${failure.error} (pending: the daemon or check retries it)\n`));
      }
    }
  } catch (error) {
    if (error instanceof ReportRefused || error instanceof ReportUnread) throw new RuntimeError(`digest: ${redact(error.message)}`);
    throw error;
  } finally {
    io.stderr.write(`digest: ${requests} Langfuse request${requests === 1 ? '' : 's'}\n`);
    await closeChannels(channels);
  }
  return failed ? 'failed' : 'ok';
}

// Prints notifications for people watching a terminal: the demo, dry runs, debugging.
import * as z from 'zod/mini';
import { isDigest } from '../core/digest.js';
import { renderDigestPlain } from '../render/digest.js';
import { renderPlain } from '../render/plain.js';
import { describe } from '../core/schema-parts.js';
import { terminalSafe } from '../util/terminal.js';
import { DeliveryError, type Channel } from './channel.js';
import { defineChannel, type ChannelDeps } from './definition.js';

const schema = describe(
  z.strictObject({
    type: z.literal('console'),
  }),
  'Prints notifications to stdout (demo, dry runs, debugging).',
);

export type ConsoleChannelConfig = z.infer<typeof schema>;

// A full pipe buffer or a non-blocking descriptor may drain later; a closed stream never will.
const TRANSIENT_WRITE_ERRORS = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR', 'ENOBUFS']);

export function createConsoleChannel(name: string, _config: ConsoleChannelConfig, deps: ChannelDeps): Channel {
  return {
    name,
    type: 'console',
    batches: true,
    async send(notifications, signal) {
      if (signal.aborted) throw new DeliveryError('console: cancelled', true);
      if (notifications.length === 0) return;
      const [first] = notifications;
      const rendered = notifications.length === 1 && first !== undefined && isDigest(first) ? renderDigestPlain(first) : renderPlain(notifications);
      const text = terminalSafe(`${rendered}\n\n`);
      await new Promise<void>((resolve, reject) => {
        // a blocked pipe may never call back; shutdown must not wait for it
        const onAbort = () => reject(new DeliveryError('console: cancelled', true));
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (error?: (Error & { code?: string }) | null) => {
          signal.removeEventListener('abort', onAbort);
          if (!error) return resolve();
          const code = error.code ?? error.name;
          reject(new DeliveryError(`console: could not write: ${code}`, TRANSIENT_WRITE_ERRORS.has(code)));
        };
        try {
          deps.stdout.write(text, done);
        } catch (error) {
          done(error as Error);
        }
      });
    },
  };
}

export const consoleChannel = defineChannel({
  type: 'console',
  schema,
  secrets: [],
  describe: () => 'console (stdout)',
  create: createConsoleChannel,
});

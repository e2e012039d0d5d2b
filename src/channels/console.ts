// Prints notifications for people watching a terminal: the demo, dry runs, debugging.
import type { ChannelConfig } from '../config/schema.js';
import { renderPlain } from '../render/plain.js';
import { terminalSafe } from '../util/terminal.js';
import { DeliveryError, type Channel, type ChannelContext } from './channel.js';

export type ConsoleChannelConfig = Extract<ChannelConfig, { type: 'console' }>;

// A full pipe buffer or a non-blocking descriptor may drain later; a closed stream never will.
const TRANSIENT_WRITE_ERRORS = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR', 'ENOBUFS']);

export function createConsoleChannel(name: string, _config: ConsoleChannelConfig, context: ChannelContext): Channel {
  return {
    name,
    type: 'console',
    digest: true,
    async send(notifications, signal) {
      if (signal.aborted) throw new DeliveryError('console: cancelled', true);
      if (notifications.length === 0) return;
      const text = terminalSafe(`${renderPlain(notifications)}\n\n`);
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
          context.stdout.write(text, done);
        } catch (error) {
          done(error as Error);
        }
      });
    },
  };
}

// Everything the worker knows about one channel type, in the channel's own file: how it is
// configured, which of its settings are secrets, how it is described, what is checked across its
// settings, and how it is built. The configuration schema, redaction, `validate`'s summary and
// channel creation all read these definitions through ./registry.ts; none of them switches on a type.
import type * as z from 'zod/mini';
import type { Transport } from '../net/transport.js';
import type { Channel } from './channel.js';

/** What a channel may use from the outside world; given to it, never reached for. */
export interface ChannelDeps {
  /** where console channels print; process.stdout in the CLI */
  readonly stdout: NodeJS.WritableStream;
  /** per-request timeout */
  readonly timeoutMs: number;
  /** sends HTTP requests (Slack, webhooks); behind a proxy, the proxy's */
  readonly transport: Transport;
  /** the wall clock, e.g. for a webhook signature's timestamp */
  readonly clock: () => Date;
}

/** A problem across a channel's settings; `path` is relative to the channel's entry. */
export interface ChannelFinding {
  readonly level: 'error' | 'warning';
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** A channel's settings schema: a strict object whose `type` is a literal (the discriminator). */
export type ChannelSchema = z.ZodMiniObject<{ type: z.ZodMiniLiteral<string> } & z.core.$ZodLooseShape, z.core.$strict>;

export interface ChannelDefinition<S extends ChannelSchema = ChannelSchema> {
  /** the `type:` value in alerts.yaml */
  readonly type: z.output<S>['type'];
  /** the settings, `type` included, with the messages and descriptions users see */
  readonly schema: S;
  /**
   * Settings whose values are credentials: left out of configuration messages and redacted from
   * every log line, error and state file, with what was interpolated into them.
   */
  readonly secrets: readonly (keyof z.output<S> & string)[];
  /** one line for `validate`'s summary: where it sends, never a credential (`slack (hooks.slack.com)`) */
  describe(config: z.output<S>): string;
  /**
   * Rules across settings that the schema can't express. Reads the entry as written, before
   * validation, so every value may be missing or of any type; runs even when the schema failed.
   */
  check?(entry: Readonly<Record<string, unknown>>): ChannelFinding[];
  create(name: string, config: z.output<S>, deps: ChannelDeps): Channel;
}

/** Keeps a definition's types tied to its schema. */
export function defineChannel<S extends ChannelSchema>(definition: ChannelDefinition<S>): ChannelDefinition<S> {
  return definition;
}

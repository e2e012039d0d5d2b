// Structured logs (pino) on stderr, so stdout stays for what a command prints. Every string that
// reaches a log line passes the redactor: secrets from the configuration never appear.
import { pino } from 'pino';
import { createRequire } from 'node:module';
import { terminalSafe } from '../util/terminal.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly redact: (text: string) => string;
  /** defaults to stderr */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr;
  // JSON escapes control characters itself; pretty lines go to a terminal as they are
  const clean = options.format === 'pretty' ? (text: string) => terminalSafe(options.redact(text)) : options.redact;
  const redactDeep = (value: unknown): unknown => {
    if (typeof value === 'string') return clean(value);
    if (Array.isArray(value)) return value.map(redactDeep);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
    }
    return value;
  };
  const base = pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (fields) => redactDeep(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? clean(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    options.format === 'pretty' ? prettyStream(destination) : (destination as pino.DestinationStream),
  );
  return {
    debug: (fields, message) => base.debug(fields, message),
    info: (fields, message) => base.info(fields, message),
    warn: (fields, message) => base.warn(fields, message),
    error: (fields, message) => base.error(fields, message),
  };
}

/** pino-pretty as a synchronous stream rather than a worker thread: logs survive a quick exit. */
function prettyStream(destination: NodeJS.WritableStream): pino.DestinationStream {
  // loaded only for humans: JSON logs, the default, don't pay for it at start-up
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({ destination, colorize: false, translateTime: 'SYS:standard', ignore: 'pid,hostname', sync: true });
}

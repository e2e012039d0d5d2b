// The command line: help, the errors of a mistyped command or option, which variables a command
// reads, and what status says about a state directory that isn't there. The cases that matter most
// run as real processes; the table of usage errors runs `main` in-process, the same code path
// after argv, to keep the file fast.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFakeLangfuse, type FakeLangfuse } from '../../tools/fake-langfuse/server.js';
import { spend, startCli } from '../support/cli-process.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-args-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The process's exit code, stdout and stderr (plain lines, then log lines) once it exited. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const child = startCli({ args, env, cwd: dir });
  const { code } = await child.exited;
  const stderr = [...child.plainStderr, ...child.logs.map((line) => JSON.stringify(line))].join('\n');
  return { code, stdout: child.stdout(), stderr };
}

/** `main` with this argv, environment and working directory, as bin.ts calls it. */
async function inProcess(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const err = new PassThrough().on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await main(args, { stdout: out, stderr: err, env, cwd: dir });
  return { code, stdout, stderr: stderr.trimEnd() };
}

describe('help', () => {
  test('help, --help and -h print every command and option and exit 0', async () => {
    for (const [args, run] of [[['help'], cli], [['--help'], inProcess], [['-h'], inProcess]] as const) {
      const { code, stdout, stderr } = await run([...args]);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      for (const command of ['run', 'check', 'validate', 'test-notify', 'demo', 'status', 'models diff|apply', 'help [COMMAND]']) {
        expect(stdout).toMatch(new RegExp(`^  ${command.replace(/[[\]]/g, '\\$&')}\\s`, 'm'));
      }
      expect(stdout).toMatch(/^ {2}--host HOST {10}run: address the port is bound to \(env HOST, default all interfaces\)$/m);
      expect(stdout).toMatch(/^ {2}--dry-run {12}check: /m);
    }
  });

  test('help check and check --help print the options of check only', async () => {
    const viaHelp = await cli(['help', 'check']);
    const viaFlag = await inProcess(['check', '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaFlag).toEqual(viaHelp);
    expect(viaHelp.stdout).toMatch(/^Usage: spend-alerts check \[options\]$/m);
    expect(viaHelp.stdout).toContain('--dry-run');
    expect(viaHelp.stdout).toContain('--alert NAME');
    expect(viaHelp.stdout).toContain('--config FILE');
    expect(viaHelp.stdout).not.toContain('--port');
    expect(viaHelp.stdout).not.toContain('--channel');
  });

  test('help models shows its two words, its one option and exit code 3', async () => {
    const { code, stdout } = await inProcess(['help', 'models']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: spend-alerts models diff\|apply \[options\]$/m);
    expect(stdout).toMatch(/^ {2}--exit-code {10}diff only: exit 3 when Langfuse differs from alerts.yaml, 0 when it does not$/m);
    expect(stdout).toContain('models diff --exit-code: 3 when Langfuse differs from alerts.yaml.');
    expect((await inProcess(['models', 'diff', '--help'])).stdout).toBe(stdout);
  });

  test('help run names the switch that turns the status page off, and its variable', async () => {
    const { code, stdout } = await inProcess(['help', 'run']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}--no-ui {14}no status page at \/ \(env SPEND_ALERTS_UI=off does the same; the page has no authentication\)$/m);
  });
});

describe('usage errors exit 2 with one plain line that says what to change', () => {
  test('a mistyped command, a mistyped option, an option without its value: as a process', async () => {
    for (const [args, message] of [
      [['chek'], 'unknown command "chek" (did you mean "check"?)'],
      [['check', '--x'], 'unknown option --x for check (options: --dry-run, --alert, --config, --state-dir, --log-level, --log-format, --help, --version)'],
      [['check', '--config'], '--config needs a value: --config FILE'],
    ]) {
      const { code, stdout, stderr } = await cli(args as string[]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n')).toEqual([`spend-alerts: ${message}`, expect.stringMatching(/^Run "spend-alerts help( check)?" for usage\.$/)]);
    }
  });

  test.each([
    [['chek'], 'unknown command "chek" (did you mean "check"?)'],
    [['help', 'stauts'], 'unknown command "stauts" (did you mean "status"?)'],
    [['frobnicate'], 'unknown command "frobnicate" (commands: run, check, validate, test-notify, demo, status, report, digest, backtest, models)'],
    [['models'], 'models needs an action: models diff|apply'],
    [['models', 'dif'], 'unknown action "dif" for models (did you mean "diff"?)'],
    [['models', 'sync'], 'unknown action "sync" for models (actions: diff, apply)'],
    [['models', 'apply', '--exit-code'], '--exit-code is an option of models diff, not of models apply'],
    [['models', 'diff', 'extra'], 'unexpected argument "extra"'],
    [['models', 'diff', '--dry-run'], '--dry-run is an option of check, digest, not of models'],
    [['check', '--x'], 'unknown option --x for check (options: --dry-run, --alert, --config, --state-dir, --log-level, --log-format, --help, --version)'],
    [['check', '--dryrun'], 'unknown option --dryrun for check (did you mean "--dry-run"?)'],
    [['check', '--port', '9000'], '--port is an option of run, not of check'],
    [['validate', '--dry-run'], '--dry-run is an option of check, digest, not of validate'],
    [['check', '--config'], '--config needs a value: --config FILE'],
    [['check', '--state-dir', '--dry-run'], '--state-dir needs a value: --state-dir DIR'],
    [['check', '--dry-run=yes'], '--dry-run takes no value'],
    [['check', 'extra'], 'unexpected argument "extra"'],
    [['run', '--host', 'not a host'], '--host must be an IP address or a host name, got "not a host"'],
    [['run', '--host', '300.1.2.3'], '--host must be an IP address or a host name, got "300.1.2.3"'],
  ])('%j', async (args, message) => {
    const { code, stdout, stderr } = await inProcess(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe(`spend-alerts: ${message}`);
    expect(stderr).not.toMatch(/To specify a positional argument|ERR_PARSE_ARGS|\n\s+at /);
  });

  test.each([
    [{ LOG_LEVEL: 'loud' }, ['check'], 'LOG_LEVEL must be one of debug, info, warn, error, got "loud"'],
    [{ LOG_FORMAT: 'xml' }, ['validate'], 'LOG_FORMAT must be one of json, pretty, got "xml"'],
    [{ PORT: 'abc' }, ['run'], 'PORT must be a port number, got "abc"'],
    [{ HOST: 'bad_host!' }, ['run'], 'HOST must be an IP address or a host name, got "bad_host!"'],
    [{ SPEND_ALERTS_UI: 'false' }, ['run'], 'SPEND_ALERTS_UI must be one of on, off, got "false"'],
  ])('a bad variable is named: %j', async (env, args, message) => {
    const { code, stderr } = await ('LOG_LEVEL' in env ? cli : inProcess)(args, env);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(`spend-alerts: ${message}`);
  });

  test('the flag is named when the flag was wrong', async () => {
    const { code, stderr } = await inProcess(['check', '--log-level', 'loud'], { LOG_LEVEL: 'debug' });
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('spend-alerts: --log-level must be one of debug, info, warn, error, got "loud"');
  });
});

describe('PORT and HOST are read by run only', () => {
  let fake: FakeLangfuse;

  beforeEach(async () => {
    fake = await startFakeLangfuse({ observations: [spend('a', 3)] });
  });

  afterEach(async () => {
    await fake.close();
  });

  test('check with PORT=abc and HOST=!! evaluates as usual', async () => {
    await writeFile(
      join(dir, 'alerts.yaml'),
      `langfuse:\n  baseUrl: ${fake.url}\n  publicKey: ${fake.publicKey}\n  secretKey: ${fake.secretKey}\n` +
        'channels:\n  terminal:\n    type: console\nalerts:\n  - name: budget\n    window: 24h\n    threshold: 100\n    channels: [terminal]\n',
    );
    const { code, stderr } = await cli(['check'], { PORT: 'abc', HOST: '!!' });
    expect(stderr).toContain('"alertsEvaluated":1');
    expect(code).toBe(0);
  });
});

test('.env: an unquoted value with "#" is warned about on stderr, without the value; the command goes on', async () => {
  await writeFile(join(dir, '.env'), 'LOG_FORMAT=json\nHOOK_SECRET=s3cr3t#tail\n');
  const { code, stdout, stderr } = await cli(['help']);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^Usage: spend-alerts/);
  expect(stderr).toBe(
    `spend-alerts: warning: ${join(dir, '.env')}:2:19 HOOK_SECRET: the value is not quoted, so it ends at this "#" ` +
      '(the rest reads as a comment) while docker --env-file keeps the whole line: quote it (Docker keeps the quotes too) or put it ' +
      'in a file named by HOOK_SECRET_FILE',
  );
});

test('status without a state directory says so and exits 1', async () => {
  const { code, stdout, stderr } = await cli(['status', '--state-dir', 'nothing-here']);
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toBe(`spend-alerts: no state directory at ${join(dir, 'nothing-here')}`);
});

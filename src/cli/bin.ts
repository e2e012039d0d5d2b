#!/usr/bin/env node
import nodeModule from 'node:module';
import { loadDotEnv } from '../config/dotenv.js';
import { formatIssue } from '../config/errors.js';
import { transportFromEnv } from '../net/proxy.js';
import type { Transport } from '../net/transport.js';
import { failureExit, main } from './main.js';

// Node ≥ 22.1 keeps the code it compiled (in NODE_COMPILE_CACHE, or a folder in the temp dir) and
// reuses it next time: a `check` started by cron loads its commands ~30 ms faster. Node 20 has no
// such cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

let env: Record<string, string | undefined>;
let transport: Transport;
try {
  env = loadDotEnv(process.cwd(), process.env, (warning) => process.stderr.write(`spend-alerts: warning: ${formatIssue(warning)}\n`));
  transport = await transportFromEnv(env);
} catch (error) {
  process.exit(failureExit(error, process.stderr));
}
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
  transport,
});

#!/usr/bin/env node
import { loadDotEnv } from '../config/load.js';
import { installProxyFromEnv, ProxyConfigError } from '../net/proxy.js';
import { main } from './main.js';

const env = loadDotEnv(process.cwd(), process.env);
try {
  await installProxyFromEnv(env);
} catch (error) {
  if (!(error instanceof ProxyConfigError)) throw error;
  process.stderr.write(`spend-alerts: ${error.message}\n`);
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
});

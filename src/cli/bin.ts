#!/usr/bin/env node
import { loadDotEnv } from '../config/dotenv.js';
import { ConfigError } from '../config/errors.js';
import { installProxyFromEnv, ProxyConfigError } from '../net/proxy.js';
import { main } from './main.js';

let env: Record<string, string | undefined>;
try {
  env = loadDotEnv(process.cwd(), process.env);
  await installProxyFromEnv(env);
} catch (error) {
  if (error instanceof ConfigError) process.stderr.write(`${error.format()}\n`);
  else if (error instanceof ProxyConfigError) process.stderr.write(`spend-alerts: ${error.message}\n`);
  else throw error;
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
});

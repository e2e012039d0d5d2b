#!/usr/bin/env node
import { loadDotEnv } from '../config/load.js';
import { installProxyFromEnv } from '../net/proxy.js';
import { main } from './main.js';

const env = loadDotEnv(process.cwd(), process.env);
await installProxyFromEnv(env);
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env,
  cwd: process.cwd(),
});

// Runs `spend-alerts report` (or `digest`, or `backtest`) against the demo's sample data (the
// Langfuse-compatible server of `spend-alerts demo`, on 127.0.0.1) with the demo's alerts and a
// weekly digest to its terminal channel: what the README's report, digest and backtest sections show.
//   npx tsx scripts/report-on-demo.ts [report options…]
//   npx tsx scripts/report-on-demo.ts digest [digest options…]
//   npx tsx scripts/report-on-demo.ts backtest --days 14 [backtest options…]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { sampleObservations } from '../src/demo/sample-data.js';
import { startDemoLangfuse } from '../src/demo/server.js';
import { packageFile } from '../src/util/package-file.js';

const keys = { publicKey: 'pk-lf-demo', secretKey: 'sk-lf-demo' };
const now = new Date();
const langfuse = await startDemoLangfuse({
  observations: sampleObservations(now),
  ...keys,
  project: { id: 'demo', name: 'demo', organization: { id: 'demo-org', name: 'Demo Org' } },
});
const dir = await mkdtemp(join(tmpdir(), 'spend-alerts-report-demo-'));
try {
  const digest = '\ndigests:\n  - { name: weekly, schedule: "0 9 * * 1", window: 7d, channels: [terminal], top: 3 }\n';
  await writeFile(join(dir, 'alerts.yaml'), (await readFile(packageFile('demo/alerts.yaml'), 'utf8')) + digest);
  const env = { ...process.env, LANGFUSE_BASE_URL: langfuse.url, LANGFUSE_PUBLIC_KEY: keys.publicKey, LANGFUSE_SECRET_KEY: keys.secretKey };
  const [first] = process.argv.slice(2);
  const argv = first === 'digest' || first === 'backtest' ? process.argv.slice(2) : ['report', ...process.argv.slice(2)];
  process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, env, cwd: dir });
} finally {
  await langfuse.close();
  await rm(dir, { recursive: true, force: true });
}

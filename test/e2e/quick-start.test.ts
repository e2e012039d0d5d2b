// The README's quick start as written: its `.env` (read out of README.md, so the test fails when the
// two drift apart) and alerts.example.yaml copied to alerts.yaml make a configuration `validate`
// accepts without a warning — in particular without the request budget's "less often" one.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { REPO, startCli } from '../support/cli-process.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spend-alerts-quick-start-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The body of the quick start's `cat > .env <<'EOF'` … `EOF`. */
async function quickStartDotEnv(): Promise<string> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  const block = /^cat > \.env <<'EOF'\n([\s\S]*?)^EOF$/m.exec(quickStart);
  if (!block) throw new Error("README.md's quick start has no `cat > .env <<'EOF'` block");
  return block[1]!;
}

test("alerts.example.yaml with exactly the quick start's .env validates, without a warning", async () => {
  const dotEnv = await quickStartDotEnv();
  expect(dotEnv).toMatch(/^LANGFUSE_PUBLIC_KEY=/m);
  await writeFile(join(dir, '.env'), dotEnv);
  await copyFile(join(REPO, 'alerts.example.yaml'), join(dir, 'alerts.yaml'));

  const validate = startCli({ args: ['validate'], cwd: dir });
  const { code } = await validate.exited;

  expect([...validate.plainStderr, ...validate.logs.map((line) => line.msg)]).toEqual([]);
  expect(code).toBe(0);
  expect(validate.stdout()).toContain('alerts.yaml: valid');
  expect(validate.stdout()).toMatch(/^Request budget: core \(100 an hour\)$/m);
  expect(validate.stdout()).not.toContain('Warnings');
});

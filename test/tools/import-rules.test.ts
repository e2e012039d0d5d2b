// The import-rule check (`npm run lint:imports`, .dependency-cruiser.cjs) on a planted violation:
// it fails and names the rule, and the same tree without the violation passes.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, test } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(REPO, 'test/fixtures/import-rules');

/** runs the check on `src` under `cwd`, as `npm run lint:imports` runs it on the repository */
function checkImports(cwd: string): Promise<{ code: number; output: string }> {
  const bin = join(REPO, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'src', '--config', join(REPO, '.dependency-cruiser.cjs')], { cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr });
    });
  });
}

let tree: string;
beforeEach(async () => {
  tree = await mkdtemp(join(tmpdir(), 'import-rules-'));
  await cp(join(FIXTURE, 'src'), join(tree, 'src'), { recursive: true });
});
afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

test('the core importing the engine fails, naming core-is-pure', async () => {
  const { code, output } = await checkImports(FIXTURE);
  expect(code).not.toBe(0);
  expect(output).toContain('core-is-pure: src/core/x.ts → src/engine/y.ts');
}, 60_000);

test('the core importing a Node module fails too', async () => {
  await writeFile(join(tree, 'src/core/x.ts'), "import { sep } from 'node:path';\n\nexport const x = (): string => sep;\n");
  const { code, output } = await checkImports(tree);
  expect(code).not.toBe(0);
  // dependency-cruiser names Node's modules without the node: prefix
  expect(output).toContain('core-is-pure: src/core/x.ts → path');
}, 60_000);

test('the same tree without the violation passes', async () => {
  await writeFile(join(tree, 'src/core/x.ts'), 'export const x = (): number => 2;\n');
  const { code, output } = await checkImports(tree);
  expect(output).toContain('no dependency violations found');
  expect(code).toBe(0);
}, 60_000);

/** a clean core/x.ts, and `files` (path under src/core → text) beside it */
async function coreTree(files: Record<string, string>): Promise<void> {
  await writeFile(join(tree, 'src/core/x.ts'), 'export const x = (): number => 2;\n');
  for (const [path, text] of Object.entries(files)) await writeFile(join(tree, 'src/core', path), text);
}

test('two modules importing values from each other fail, naming no-circular', async () => {
  await coreTree({
    'a.ts': "import { b } from './b.js';\n\nexport const a = 1;\nexport const ab = (): number => a + b;\n",
    'b.ts': "import { a } from './a.js';\n\nexport const b = 2;\nexport const ba = (): number => a + b;\n",
  });
  const { code, output } = await checkImports(tree);
  expect(code).not.toBe(0);
  expect(output).toContain('no-circular: src/core/a.ts');
}, 60_000);

test('a cycle closed by a type-only import passes (the rule registry and the types it assembles)', async () => {
  await coreTree({
    'a.ts': "import type { B } from './b.js';\n\nexport const a = 1;\nexport type A = B | 'a';\n",
    'b.ts': "import { a } from './a.js';\n\nexport type B = 'b';\nexport const b = (): number => a;\n",
  });
  const { code, output } = await checkImports(tree);
  expect(output).toContain('no dependency violations found');
  expect(code).toBe(0);
}, 60_000);

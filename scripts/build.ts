// `npm run build`: the command line as a few ES module files in dist/, bundled by esbuild.
// Why a bundle: Node loads one file much faster than the ~300 modules behind `check` (zod and yaml
// alone are 170 files), and that loading was most of what `check` spent before its first request.
// Each command and nodemailer stay chunks of their own, loaded when they run. Not bundled, and
// loaded from node_modules only when needed: pino-pretty (`--log-format pretty`) and undici (a
// proxy is set), whose CommonJS exports a bundle's dynamic import does not hand over as Node does
// (test/build.test.ts sends through a proxy), and @resvg/resvg-js, whose native binary for the
// platform is an optional package it require()s at run time. Beside the command line:
// dist/cli/render-check.js, which draws the digest's chart (the container test runs it in the
// image). Types are checked by `npm run typecheck`, not here.
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** what `npm run build` bundles into dist/ */
export const ENTRY_POINTS = ['src/cli/bin.ts', 'src/cli/render-check.ts'];

/**
 * Bundles `entryPoints` (paths under `src/` or `bench/`, relative to the repository) into `outdir`,
 * keeping their folders: src/cli/bin.ts → <outdir>/cli/bin.js.
 */
export async function bundle({ entryPoints, outdir, outbase = 'src' }: { entryPoints: string[]; outdir: string; outbase?: string }): Promise<void> {
  await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir,
    outbase,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.10',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    external: ['pino-pretty', 'undici', '@resvg/resvg-js'],
    // CommonJS dependencies call require() for Node's own modules; an ES module has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outdir = join(ROOT, 'dist');
  await rm(outdir, { recursive: true, force: true });
  await bundle({ entryPoints: ENTRY_POINTS, outdir });
  await chmod(join(outdir, 'cli/bin.js'), 0o755);
}

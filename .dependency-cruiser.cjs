// The layering of src/ (issue #13): which folder may import which. `npm run lint:imports` checks it;
// every rule is an error, so the check exits non-zero on any violation. npm packages are allowed
// everywhere; Node's own modules everywhere but the pure core and the renderers.
/** a dependency on something outside `allowed` (folders of src/), Node's modules included */
const onlyFrom = (allowed) => ({ pathNot: `^src/(${allowed.join('|')})/`, dependencyTypesNot: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'] });
/** the same, Node's own modules allowed */
const onlyFromWithNode = (allowed) => ({ ...onlyFrom(allowed), dependencyTypesNot: [...onlyFrom(allowed).dependencyTypesNot, 'core'] });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'src/core is pure functions over data: it imports only src/core and npm packages such as zod (no node:*, no other src folder)',
      severity: 'error',
      from: { path: '^src/core/' },
      to: onlyFrom(['core']),
    },
    {
      name: 'render-imports-core',
      comment: 'renderers turn core data into text and payloads: they import src/core, src/render and the pure helpers of src/util',
      severity: 'error',
      from: { path: '^src/render/' },
      to: {
        ...onlyFrom(['core', 'render', 'util']),
        // of src/util only what computes: no transport, no clock, no I/O
        pathNot: '^src/(core|render)/|^src/util/(record|terminal|format-seconds)\\.ts$',
      },
    },
    {
      name: 'channels',
      comment:
        'a channel imports the core, the renderers, the pure helpers and the transport (core, render, util, net, channels); ' +
        'never engine, cli, daemon, sources, storage or config — its config schema lives in its own file',
      severity: 'error',
      from: { path: '^src/channels/' },
      to: onlyFromWithNode(['core', 'render', 'util', 'net', 'channels']),
    },
    {
      name: 'sources-and-storage-dont-import-engine-or-cli',
      comment: 'sources and storage are used by the engine and the CLI, never the other way round',
      severity: 'error',
      from: { path: '^src/(sources|storage)/' },
      to: { path: '^src/(engine|cli|daemon)/' },
    },
    {
      name: 'config-doesnt-import-sources-or-engine',
      comment: 'the configuration is read before anything runs: it knows the rules and channels, not sources, the engine, the daemon or the CLI',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(sources|engine|daemon|cli)/' },
    },
    {
      name: 'no-tools-or-tests-in-src',
      comment: 'the product ships src/ alone: the test fake (tools/) and the tests stay out of it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tools|test)/' },
    },
    {
      name: 'no-circular',
      comment:
        'modules that import each other, directly or through others, are one module in two files. ' +
        'A cycle with a type-only edge (`import type`) is let through: it is gone at run time, and one is inherent — ' +
        'the alert and notification types are assembled from the rule registry (src/core/rules/index.ts), ' +
        'whose rule files use those common types',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: a type from another layer ties the layers as much as a value
    tsPreCompilationDeps: true,
  },
};

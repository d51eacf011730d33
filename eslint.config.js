// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering: a folder may import only folders below it in this list (see docs/architecture.md).
// `fs` (the one atomic file write) is the lowest floor: every folder may import it, it imports none.
const floor = ['fs'];
const layers = {
  fs: [],
  http: [],
  tuf: [],
  keys: ['tuf'],
  validation: ['tuf'],
  storage: ['tuf'],
  signer: ['tuf', 'keys', 'storage'],
  remote: ['tuf', 'http'],
  registry: ['http'],
  updater: ['tuf', 'remote', 'keys'],
  server: ['tuf', 'validation', 'storage', 'signer', 'keys'],
  client: ['tuf', 'keys', 'remote', 'registry', 'updater'],
  sigstore: ['keys', 'registry', 'updater', 'client'],
  enforce: ['tuf', 'remote', 'registry', 'updater', 'keys'],
  import: ['tuf', 'storage', 'signer', 'updater'],
  proxy: ['enforce', 'registry'],
  admission: ['enforce', 'registry'],
};
const all = Object.keys(layers).concat(['cli']);
const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: all
          .filter((l) => l !== layer && !allowed.includes(l) && !(layer !== 'fs' && floor.includes(l)))
          .map((l) => ({
            group: [`../${l}/*`, `../${l}/**`, `../../${l}/*`, `../${l}`, `../../${l}`],
            message: `src/${layer} may not import src/${l} (layering, docs/architecture.md)`,
          })),
      },
    ],
  },
}));

// "Through index.ts": a file may import another folder of src/ only as `<folder>/index.js`, never a
// file inside it nor a sub-folder's index. Imports inside one folder (sub-folders included, e.g.
// src/cli/commands → src/cli/output.js) are free, as are the root files (src/errors.ts,
// src/listen.ts). A separate rule name (@typescript-eslint/no-restricted-imports) adds this to the
// layering rules above instead of replacing them; no-restricted-syntax covers dynamic `import()`.
// Exceptions are `<folder>/<file>.js` paths (relative to src/) anyone may import directly, each with
// the reason its folder's index.ts will not do — e.g. the index's re-exports would load server or
// database modules into the client, which test/cli/startup-graph.test.ts forbids.
const throughIndexExceptions = [
  // `signet verify` runs this one function of src/client; the index's re-exports are the write side
  // (working copy, signing, proposals), which the bundle would otherwise load into every verify
  'client/verify-image.js',
];
const throughIndexRules = [0, 1, 2, 3].map((depth) => {
  const up = depth === 0 ? '\\./' : `(\\.\\./){${depth}}`;
  const exempt = throughIndexExceptions.map((e) => `${e.replaceAll('.', '\\.')}$`);
  const source = `^${up}(?!\\.)${exempt.length ? `(?!${exempt.join('|')})` : ''}[^/]+/(?!index\\.js$)`;
  const message = 'import another folder of src/ through its index.ts (eslint.config.js, docs/architecture.md)';
  return {
    files: [`src/${'*/'.repeat(depth)}*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex: source, message }] }],
      'no-restricted-syntax': [
        'error',
        // esquery's regex literal cannot hold a slash
        { selector: `ImportExpression[source.value=/${source.replaceAll('/', '\\x2F')}/]`, message },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'bench/.build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layerRules,
  ...throughIndexRules,
  // the dashboard's browser script (src/server/dashboard-assets/app.js), served as it is
  {
    files: ['src/server/dashboard-assets/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', Node: 'readonly', URLSearchParams: 'readonly' },
    },
  },
);

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
          .map((l) => ({ group: [`../${l}/*`, `../${l}/**`, `../../${l}/*`, `../${l}`, `../../${l}`], message: `src/${layer} may not import src/${l} (layering, docs/architecture.md)` })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'bench/.build/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layerRules,
);

// Lint: the layer rule and the import-cycle rule (docs/architecture.md), plus a few import hygiene
// rules. Formatting is Prettier's (`npm run lint` runs both).
//
// The parser is Babel's (TypeScript and legacy decorators), not typescript-eslint's: the project
// compiles with TypeScript 7, which has no JavaScript API for typescript-eslint to parse with, and
// none of these rules needs type information (`tsc --noEmit` is the type gate).
import babelParser from '@babel/eslint-parser';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * The floors of src/, lowest first. A module may import from its own floor and the floors below,
 * never from a floor above. Keep docs/architecture.md in step.
 */
const LAYERS = [
  { name: 'events', paths: ['src/events'] },
  { name: 'base', paths: ['src/config.ts', 'src/log.ts', 'src/disposers.ts'] },
  { name: 'http', paths: ['src/http'] },
  { name: 'metrics', paths: ['src/metrics'] },
  { name: 'db', paths: ['src/db'] },
  {
    name: 'upstream client',
    paths: [
      'src/upstream/open-api.ts',
      'src/upstream/open-api.answers.ts',
      'src/upstream/open-api.client.ts',
      'src/upstream/rate-limiter.ts',
      'src/upstream/redis-rate-limiter.ts',
      'src/upstream/zoned-date-time.ts',
    ],
  },
  { name: 'api', paths: ['src/api'] },
  { name: 'domains', paths: ['src/domains'] },
  { name: 'ingest, realtime, migrations', paths: ['src/ingest', 'src/realtime', 'src/migrations'] },
  { name: 'hydration, reconcile', paths: ['src/upstream/hydration', 'src/reconcile'] },
  { name: 'entities', paths: ['src/entities.ts'] },
  { name: 'graphql, dashboard', paths: ['src/graphql', 'src/dashboard'] },
  { name: 'ormconfig', paths: ['ormconfig.ts'] },
  { name: 'main, cli', paths: ['src/main.ts', 'src/cli'] },
];

const layerZones = LAYERS.flatMap((layer, index) =>
  LAYERS.slice(index + 1).map((above) => ({
    target: layer.paths,
    from: above.paths,
    message: `the ${layer.name} floor may not import from the ${above.name} floor above it (docs/architecture.md)`,
  })),
);

export default [
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'bench/peer/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: babelParser,
      parserOptions: {
        requireConfigFile: false,
        babelOptions: {
          babelrc: false,
          configFile: false,
          presets: [[require.resolve('@babel/preset-typescript'), { allowDeclareFields: true }]],
          plugins: [[require.resolve('@babel/plugin-proposal-decorators'), { version: 'legacy' }]],
        },
      },
    },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { [require.resolve('@babel/eslint-parser')]: ['.ts'] },
      // Imports are written `./x.js` and resolve to `./x.ts` (nodenext).
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    // V8's parser allocates a function literal assigned straight to a property (`obj.f = () => ...`,
    // and a class field's arrow, which TypeScript compiles to `this.f = () => ...` here) in the old
    // generation, expecting a long-lived method. Until the next full collection such a closure, dead
    // or not, keeps everything its scope reaches alive through every young-generation collection.
    // Made once per webhook or per delivery, that was most of what those collections copied
    // (bench/README.md, "What survived the young collections"). On these paths, name it first:
    // `const f = () => ...; obj.f = f;` is allocated young.
    files: [
      'src/db/**/*.ts',
      'src/ingest/**/*.ts',
      'src/realtime/**/*.ts',
      'src/domains/batch-projectors.ts',
      'src/domains/areas.ts',
      'src/domains/**/*.area.ts',
      'src/domains/**/*.projector.ts',
      'src/domains/**/*.projectors.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        // Also through the TypeScript wrappers that compile away (`as`, `satisfies`, `!`, `<T>`).
        ...[
          "AssignmentExpression[left.type='MemberExpression'] > :matches(ArrowFunctionExpression, FunctionExpression).right",
          "AssignmentExpression[left.type='MemberExpression'] > :matches(TSAsExpression, TSSatisfiesExpression, TSNonNullExpression, TSTypeAssertion).right > :matches(ArrowFunctionExpression, FunctionExpression).expression",
          'PropertyDefinition > :matches(ArrowFunctionExpression, FunctionExpression).value',
          'PropertyDefinition > :matches(TSAsExpression, TSSatisfiesExpression, TSNonNullExpression, TSTypeAssertion).value > :matches(ArrowFunctionExpression, FunctionExpression).expression',
        ].map((selector) => ({
          selector,
          message:
            'a function literal assigned straight to a property is allocated in the old generation and keeps its scope alive past young collections: assign it to a const first (eslint.config.mjs)',
        })),
      ],
    },
  },
];

// The boundaries of DESIGN.md are lint errors, so they hold by construction. In a flat config
// the last block that sets a rule for a file wins whole, so each region below lists every
// restriction that applies to it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeModules = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const NO_ELECTRON = {
  paths: [{ name: 'electron', message: 'electron/core is pure Node: it must never import Electron.' }],
  patterns: [{ group: ['electron/*'], message: 'electron/core is pure Node: it must never import Electron.' }],
};
const NO_TFJS = { group: ['@tensorflow/*'], message: 'TensorFlow.js loads only where training runs (training/engine, training/session).' };
/** Code that must not pull in the training engine at load time (a dynamic import() is how it starts training). */
const NO_STATIC_ENGINE = {
  group: ['**/training/engine/*', '**/training/session/*', '**/engine/*', '**/session/*'],
  allowTypeImports: true,
  message: 'This code must not load the training engine: import it dynamically where training starts, or use the supervisor.',
};

function restricted(...patterns) {
  return ['error', { paths: NO_ELECTRON.paths, patterns: [...NO_ELECTRON.patterns, ...patterns] }];
}

/**
 * no-restricted-imports sees only static imports: a dynamic import() of the engine or of
 * TensorFlow.js would load it where the UI is answered, so the places that must never do so have
 * it banned as syntax too (with a literal or template source). Training and replays run in the
 * trainer process, through the supervisor.
 */
const ENGINE_SOURCE = '/(^|\\/)(engine|session)\\/|^@tensorflow\\//';
const NO_DYNAMIC_ENGINE = [
  'error',
  {
    selector: `ImportExpression[source.value=${ENGINE_SOURCE}], ImportExpression > TemplateLiteral.source > TemplateElement[value.raw=${ENGINE_SOURCE}]`,
    message:
      'This code must not load the training engine or TensorFlow.js, not even with import(): training and replays run in the trainer process (the supervisor starts it).',
  },
];
/** The command line and browser mode run in plain Node: Electron is not there (its types are, for the IPC host). */
const NO_ELECTRON_VALUES = {
  name: 'electron',
  allowTypeImports: true,
  message: 'The command line and the hosts run without Electron: only its types may be named here (the app itself is electron/main.ts and electron/app/).',
};

export default tseslint.config(
  { ignores: ['scratch/**', 'vendor/**', 'dist/**', 'node_modules/**', 'release/**', 'renderer/dist/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  // Formatting is Prettier's (npm run format); no lint rule argues with it.
  prettier,
  ...svelte.configs.prettier,
  {
    files: ['renderer/**/*.svelte', 'renderer/**/*.svelte.ts', 'test/renderer/**/*.svelte', 'test/renderer/**/*.svelte.ts'],
    languageOptions: { globals: globals.browser, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      // Our state is replaced whole, never mutated in place ($state.raw, STYLE lesson 9): the Maps
      // and Sets this rule flags are local scratch built and dropped inside one derivation.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['electron/core/**'], rules: { 'no-restricted-imports': restricted() } },
  // The core reads like a spec: a function longer than a screen is a set of named steps waiting to be named.
  { files: ['electron/core/**'], rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] } },
  {
    files: ['electron/core/checkpoint/**'],
    rules: {
      'no-restricted-imports': restricted(
        NO_TFJS,
        { group: ['**/training/**', '../training/*'], message: 'The checkpoint store never depends on training.' },
        {
          group: ['**/formats/**', '**/studio/**', '**/import/**', '**/export/**'],
          message:
            'The store is below the formats, import, export and the Studio: it defines what it needs of them (checkpoint/foreign-part.ts) and they supply it.',
        },
      ),
    },
  },
  {
    files: ['electron/core/base/**'],
    rules: {
      'no-restricted-imports': restricted(NO_TFJS, {
        group: ['**/storage/**', '**/checkpoint/**', '**/formats/**', '**/training/**', '**/studio/**', '**/import/**', '**/export/**'],
        message: 'base/ is the ground layer (files, checksums, workers): it imports nothing of the layers above it.',
      }),
    },
  },
  {
    files: ['electron/core/storage/**'],
    rules: {
      'no-restricted-imports': restricted(NO_TFJS, {
        group: ['**/checkpoint/**', '**/formats/**', '**/training/**', '**/studio/**', '**/import/**', '**/export/**'],
        message: 'storage/ (where the bytes live: a folder or an S3 prefix) sits on base/ alone; the store is written against it, not the other way round.',
      }),
    },
  },
  { files: ['electron/core/training/data/**', 'electron/core/format-bytes.ts'], rules: { 'no-restricted-imports': restricted(NO_TFJS) } },
  {
    files: ['electron/core/training/process/**', 'electron/core/studio/**', 'electron/core/export/**'],
    // The one place an export needs TensorFlow.js: a worker thread of its own.
    ignores: ['electron/core/export/preset-topology-worker.ts'],
    rules: { 'no-restricted-imports': restricted(NO_TFJS, NO_STATIC_ENGINE), 'no-restricted-syntax': NO_DYNAMIC_ENGINE },
  },
  {
    files: ['electron/cli/**', 'electron/cli.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [NO_ELECTRON_VALUES], patterns: [NO_TFJS, NO_STATIC_ENGINE, ...NO_ELECTRON.patterns] }],
      'no-restricted-syntax': NO_DYNAMIC_ENGINE,
    },
  },
  {
    files: ['electron/host/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_ELECTRON_VALUES],
          patterns: [
            NO_TFJS,
            NO_STATIC_ENGINE,
            ...NO_ELECTRON.patterns,
            {
              group: ['**/studio/studio.js', '**/studio/studio'],
              message: 'A host holds the StudioApi (electron/contract.ts), not the Studio class: whoever constructs the Studio hands its api in.',
            },
          ],
        },
      ],
      'no-restricted-syntax': NO_DYNAMIC_ENGINE,
    },
  },
  {
    // The app's own process: Electron, of course, but no more of the engine than the other hosts.
    files: ['electron/main.ts', 'electron/app/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_TFJS, NO_STATIC_ENGINE] }], 'no-restricted-syntax': NO_DYNAMIC_ENGINE },
  },
  {
    // Code both sides run (the charts' smoothing, which the Studio applies to runs too long to send whole): as the contract, nothing of Node's.
    files: ['electron/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeModules.map((name) => ({ name, message: 'electron/shared/ runs in the renderer too: it imports nothing but itself.' })),
          patterns: [{ regex: '^(?!\\./).*', message: 'electron/shared/ runs in the renderer too: it imports nothing but itself.' }],
        },
      ],
    },
  },
  {
    files: ['electron/contract.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeModules.map((name) => ({ name, message: 'The contract is shared with the renderer: it imports nothing but zod.' })),
          patterns: [{ regex: '^(?!zod$).*', message: 'The contract is shared with the renderer: it imports nothing but zod.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer talks only to the StudioApi object.' },
            ...nodeModules.map((name) => ({ name, message: 'The renderer runs in a browser: no Node modules.' })),
          ],
          patterns: [
            NO_TFJS,
            {
              regex: '(^|/)electron/(?!contract(\\.js)?$|shared/)',
              message: 'The renderer imports only the contract (electron/contract.ts) and electron/shared/ from the Node side.',
            },
          ],
        },
      ],
    },
  },
  {
    // The type check alone does not keep these out: a renderer test that starts a server in the test
    // process (test/renderer/ws-client-reconnect.test.ts) brings Node's types into the same program.
    files: ['renderer/**'],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'global', 'require', 'module', 'exports', '__dirname', '__filename', 'setImmediate', 'clearImmediate'].map((name) => ({
          name,
          message: 'The renderer runs in a browser: no Node globals.',
        })),
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);

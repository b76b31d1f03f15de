import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox, and domain/ is bundled into it.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const deterministicCode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        ...nodeBuiltins.map((name) => ({ name, message: 'Node built-ins are not allowed in deterministic code.' })),
        { name: 'pg', message: 'No I/O in deterministic code.' },
      ],
      patterns: [
        { group: ['**/db/*', '**/api/*', '**/activities/*', '**/worker/*'], allowTypeImports: true, message: 'Deterministic code may only import types from I/O layers.' },
      ],
    },
  ],
  'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch'],
};

/** Folders that a layer must not reach (DESIGN §3): imports only ever point down. */
const layerBan = (groups, message) => ({ 'no-restricted-imports': ['error', { patterns: [{ group: groups, message }] }] });

// Functions allowed above the complexity limit, each a flat dispatch whose branches are the logic:
// splitting them would only move a switch elsewhere.
const COMPLEXITY_EXCEPTIONS = [
  'domain/segment-rules.ts', // testOf: one case per rule operator
  'domain/segment-rule-validation.ts', // checkOperand/checkAttributeKind: one case per operand type
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
      complexity: ['error', 15],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  { files: COMPLEXITY_EXCEPTIONS, rules: { complexity: 'off' } },
  { files: ['platform/**/*.ts'], rules: layerBan(['**/workflows/*', '**/api/*', '**/worker/*', '**/activities/*'], 'platform/ is below every process: pass what it needs in.') },
  { files: ['db/**/*.ts'], rules: layerBan(['**/api/*', '**/worker/*', '**/activities/*', '**/workflows/*'], 'db/ knows domain types only.') },
  { files: ['api/**/*.ts'], rules: layerBan(['**/worker/*', '**/activities/*', '**/bench/*', '**/scripts/*'], 'api/ is a process of its own.') },
  // Unit tests of the simulators are the exception: they test bench/ itself.
  { files: ['test/integration/**/*.ts', 'test/e2e/**/*.ts', 'test/support/**/*.ts'], rules: layerBan(['**/bench/**'], 'bench/ is not part of the product; shared stacks and the fleet live in scripts/.') },
  { files: ['workflows/**/*.ts', 'domain/**/*.ts'], rules: deterministicCode },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'domain/ takes time as a parameter.' },
        { object: 'Math', property: 'random', message: 'domain/ takes seeds as parameters.' },
      ],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['*.config.mts', '*.config.mjs', 'ui/vite.config.mts', 'test/support/global-setup.ts'], rules: { 'no-restricted-syntax': 'off' } },
  // The dashboard runs in browsers and knows the server only through the admin API (DESIGN §3).
  {
    files: ['ui/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: layerBan(['**/api/**', '**/db/**', '**/domain/**', '**/platform/**', '**/workflows/**', '**/activities/**', '**/worker/**', '**/cli/**'], 'ui/ talks to the admin API over HTTP only.'),
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);

// `npm run lint`: ESLint with typescript-eslint's type-aware rules and the house rules (eslint/house-rules.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import house from './eslint/house-rules.mjs';
import houseSecurity from './eslint/security-rules.mjs';
import security from 'eslint-plugin-security';

const MYSQL = { group: ['mysql2', 'mysql2/*'], message: 'Only the MySQL adapters in src/db/ import mysql2.' };
const DURABLE = { group: ['**/durable/*', '**/durable/**'], message: 'Layers point one way: src/ never imports durable/ (only src/index.ts wires bindings to classes); put the contract in src/contracts/.' };
const ROUTER = { group: ['**/src/http/*', '**/src/http/**'], message: 'Durable Objects know no router.' };

/**
 * Code scanning (SAST): eslint-plugin-security's recommended rules as errors, and the project's own
 * security invariants (eslint/security-rules.mjs). Tuned rules and why: docs/decisions.md ("SAST").
 */
const SAST = [
  {
    files: ['**/*.{ts,mts,js,mjs,cjs}'],
    plugins: { security, 'house-security': houseSecurity },
    rules: {
      ...Object.fromEntries(Object.keys(security.configs.recommended.rules).map((rule) => [rule, 'error'])),
      // Off: flags every obj[key], which typescript's index types already check; thousands of hits, no signal.
      'security/detect-object-injection': 'off',
      'house-security/no-string-built-sql': 'error',
      'house-security/no-unsafe-html': 'error',
      'house-security/no-secret-in-logs': 'error',
    },
  },
  {
    // Command-line tools, tests and benchmarks run on the operator's machine: they spawn processes and
    // read the files they are told to; in the deployed Worker (src/, durable/) these stay errors.
    // Their regular expressions match the operator's own arguments and known names, not an attacker's input,
    // and they compare no secrets (detect-possible-timing-attacks fires on any variable named `token`).
    files: ['bin/**', 'test/**', 'bench/**', 'eslint/**', '*.config.{js,ts}'],
    rules: {
      'security/detect-child-process': 'off',
      'security/detect-non-literal-fs-filename': 'off',
      'security/detect-non-literal-require': 'off',
      'security/detect-non-literal-regexp': 'off',
      'security/detect-unsafe-regex': 'off',
      'security/detect-possible-timing-attacks': 'off',
    },
  },
  {
    // Tests print and send the credentials they made up on purpose, and build hostile SQL to test the
    // guard and the test database's users (that is what they test).
    files: ['test/**'],
    rules: { 'house-security/no-secret-in-logs': 'off', 'house-security/no-string-built-sql': 'off' },
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', '.wrangler/', 'coverage/', 'conformance-results/', 'bench/results/', '.data/', '.test-data/'] },
  {
    files: ['**/*.{ts,mts,js,mjs,cjs}'],
    extends: [js.configs.recommended],
    plugins: { house },
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node, ...globals.worker } },
    rules: {
      'house/module-comment': 'error',
      'house/no-machine-paths': 'error',
      'house/no-unexplained-skips': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.ts', '**/*.d.mts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests read JSON and use vitest's asymmetric matchers (typed any); the source keeps the strict rules.
    files: ['test/**/*.ts', 'vitest.config.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      // `(await response.json()) as T` reads better in a test than a type argument; URLs in messages are fine.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  { files: ['src/**/*.ts', 'durable/**/*.ts'], rules: { 'house/no-execute': 'error' } },
  ...SAST,
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DURABLE, MYSQL] }] } },
  { files: ['src/index.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [MYSQL] }] } },
  { files: ['src/db/mysql.ts', 'src/db/mysql-connection.ts', 'src/db/audit-mysql.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DURABLE] }] } },
  { files: ['durable/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [MYSQL, ROUTER] }] } },
);

// `npm run lint`: ESLint with typescript-eslint's type-aware rules and the house rules (eslint/house-rules.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import house from './eslint/house-rules.mjs';

const MYSQL = { group: ['mysql2', 'mysql2/*'], message: 'Only the MySQL adapters in src/db/ import mysql2.' };
const DURABLE = { group: ['**/durable/*', '**/durable/**'], message: 'Layers point one way: src/ never imports durable/ (only src/index.ts wires bindings to classes); put the contract in src/contracts/.' };
const ROUTER = { group: ['**/src/http/*', '**/src/http/**'], message: 'Durable Objects know no router.' };

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
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DURABLE, MYSQL] }] } },
  { files: ['src/index.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [MYSQL] }] } },
  { files: ['src/db/mysql.ts', 'src/db/mysql-connection.ts', 'src/db/audit-mysql.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [DURABLE] }] } },
  { files: ['durable/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [MYSQL, ROUTER] }] } },
);

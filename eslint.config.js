import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

// zod's `z` only through src/core/zod.ts, which configures it before any schema is built (CSP)
const ZOD_FROM_CORE = { name: 'zod', importNames: ['z'], message: "take z from src/core/zod.ts (zod without new Function, for the Content-Security-Policy)" };

export default tseslint.config(
  { ignores: ['dist/', 'dist-*/', 'node_modules/', 'public/', 'test-results/', 'playwright-report/', 'tools/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
    },
  },
  {
    files: ['tools/**/*.js'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    // src/core runs in the page, the worker, Node and the tests: it takes what it needs as
    // arguments and never imports the page, the worker or React (tsconfig.core.json keeps the
    // DOM and Node types out of it)
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ZOD_FROM_CORE],
          patterns: [
            {
              group: ['**/ui', '**/ui/**', '**/worker', '**/worker/**'],
              message: 'src/core must not import from src/ui or src/worker: pass what core needs in as arguments.',
            },
            {
              group: ['react', 'react/**', 'react-dom', 'react-dom/**', 'zustand', 'zustand/**', 'comlink', '@niivue/niivue'],
              message: 'src/core is plain TypeScript: no React, stores, comlink or viewers.',
            },
          ],
        },
      ],
      // the same for import('...') (no-restricted-imports sees static imports only)
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/(^|\\/)(ui|worker)(\\/|$)/]',
          message: 'src/core must not import from src/ui or src/worker: pass what core needs in as arguments.',
        },
      ],
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}', 'src/worker/**/*.ts', 'src/cli/**/*.ts', 'src/main.tsx', 'e2e/**/*.ts', 'tools/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ZOD_FROM_CORE] }] },
  },
  {
    files: ['src/core/zod.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);

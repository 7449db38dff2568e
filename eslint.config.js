// Type-aware lint for the whole monorepo. CI runs it with --max-warnings 0.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noFramework = {
  group: ['@nestjs/*', '@prisma/*', 'kafkajs', 'viem', 'viem/*', 'pg', 'pino', 'prom-client', 'express', 'node:worker_threads', 'node:child_process', 'node:fs', 'node:net', 'node:http'],
  message: 'The core is framework-free: no framework, I/O or chain imports (see CONVENTIONS.md).',
};
// The matching core imports nothing but itself.
const frameworkFree = {
  patterns: [noFramework, { group: ['@parallax/*'], message: 'The matching core depends on no other Parallax package.' }],
};
// Engines and contracts are pure too, but build on the core and on the transport's types.
const pureDomain = { patterns: [noFramework] };

const noDeepImports = {
  patterns: [
    {
      group: ['**/libs/*/src/**', '**/apps/*/src/**', '@parallax/*/src/**', '@parallax/*/dist/**'],
      message: 'Import Parallax packages by alias through their index (e.g. @parallax/order-book).',
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/generated/**', '.cache/**', 'coverage/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Root-level TypeScript files that no package tsconfig includes (prisma.config.ts) use the base options.
        projectService: { allowDefaultProject: ['prisma.config.ts'], defaultProject: 'tsconfig.base.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's describe/it return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      // Nest's option objects are declared as classes; plain literals are how its own docs pass them.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', noDeepImports],
    },
  },
  {
    files: ['libs/order-book/src/**/*.ts'],
    ignores: ['libs/order-book/bench/**'],
    rules: { 'no-restricted-imports': ['error', frameworkFree] },
  },
  {
    files: ['libs/matching/src/**/*.ts', 'libs/contracts/src/**/*.ts', 'libs/risk/src/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/bench/**'],
    rules: { 'no-restricted-imports': ['error', pureDomain] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // asm/*.ts is AssemblyScript (its own types and decorators), checked by its compiler.
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'asm/*.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);

import { defineConfig } from 'vitest/config';

// Tests import the built package (dist/), as users do: `npm test` builds it first (pretest).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

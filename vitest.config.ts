import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The testbed's unit tests run here too; the testbed itself needs root and minutes.
    include: ['tests/**/*.test.ts', 'testbed/tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kernel suites run big reference products in plain JS; the default 5 s is too tight on a loaded 2-core box.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});

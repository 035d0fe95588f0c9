// Two tiers (`npm test` runs both; `npm run test:unit` is the inner loop):
// - unit: pure in-process tests — kernels vs f64 references, gradient checks, preprocessing, formats. No servers,
//   browsers or child processes; the whole tier stays under 30 s on 2 cores.
// - integration: real servers on loopback ports, the bundled CLIs (built once per run by test/setup/global.ts),
//   Chromium, Prometheus, and the Python tools. Longer timeouts, since these start processes on a shared machine.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup/cleanup.ts'],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/setup/cleanup.ts'],
          globalSetup: ['test/setup/global.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});

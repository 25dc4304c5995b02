import { defineConfig } from 'vitest/config';

// Two projects: "fast" (unit, golden, lint of generated files; seconds) and "e2e" (real installs under
// systemd-nspawn, wine, repositories on loopback; minutes). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

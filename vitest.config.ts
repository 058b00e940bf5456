import { svelte } from '@sveltejs/vite-plugin-svelte';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig(({ mode }) => ({
  // Compiles the renderer's rune classes (*.svelte.ts) for its tests; other files pass through.
  plugins: [svelte({ configFile: false })],
  test: {
    testTimeout: 30_000,
    pool: 'forks',
    // Two files at once even on 2 cores (the default there is one): most of the suite waits on
    // other processes (a trainer, the Ceph gateway, Chromium), and one at a time took 12 minutes.
    maxWorkers: 2,
    // `vitest run --mode full` (npm run fuzz:workspace, fuzz:formats) runs the long randomized
    // tests at full size; npm test runs them short (test/test-size.ts).
    env: mode === 'full' ? { TEST_SIZE: 'full' } : {},
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/renderer/**'],
          // Says once where the S3 tests (a real Ceph gateway) cannot run.
          globalSetup: ['test/s3/global-setup.ts'],
        },
      },
      // The renderer's own code runs in a DOM, compiled for the browser as the app is: Svelte's
      // browser build (its default export condition is the server's, which cannot mount).
      {
        extends: true,
        resolve: { conditions: ['browser'] },
        test: { name: 'renderer', include: ['test/renderer/**/*.test.ts'], environment: 'happy-dom', setupFiles: ['test/renderer/setup.ts'] },
      },
    ],
  },
}));

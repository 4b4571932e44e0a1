import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their `src/` through the `source` export condition, so tests never
// need a build (and never test a stale `dist/`).
const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    pool: 'threads',
    testTimeout: 60_000,
  },
});

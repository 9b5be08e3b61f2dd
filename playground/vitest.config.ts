import { defineConfig } from 'vitest/config'

/** The browser test on its own (`npm run test:playground`, .ci/run): it needs Chromium, which `npm test` does not. */
export default defineConfig({
  test: { include: ['playground/**/*.test.ts'], testTimeout: 120_000, pool: 'forks' },
})

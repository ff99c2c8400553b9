import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (each package's own tests, in-process with app.inject and fake fetch; seconds) and
 * `integration` (tests/: real processes on loopback, real Dex, Keycloak and Docker; provisioned once by
 * tests/provision.global.ts). `npm test` runs both; `npx vitest --project unit` runs only the fast one.
 */
export default defineConfig({
  test: {
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['*/test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/**/*.test.ts'],
          globalSetup: ['tests/provision.global.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

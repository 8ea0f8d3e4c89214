import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    // Real PostgreSQL, real HTTP servers and CDK synth: generous, so a busy 2-core CI
    // machine never flakes. Timing targets live in `npm run bench`, not here.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    restoreMocks: true,
  },
});

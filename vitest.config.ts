import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // both cores: the longest files (the sync storms, the DB-GPT runtimes) wait on child processes
    // more than they compute, and one worker alone took over 10 minutes
    maxWorkers: 2,
    // Installs the real DB-GPT of test/runtime/ once (FLOWREG_SKIP_DBGPT=1 opts out); test:fast drops it.
    globalSetup: ['test/globalSetup.ts'],
    reporters: ['default'],
  },
});

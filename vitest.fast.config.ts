/**
 * `npm run test:fast`: the edit loop. Every test file except those in CHILD_PROCESS_TESTS, with
 * no child process started: test/helpers/noChildProcesses.ts makes child_process throw and fails
 * the test that called it. So the rule stays true as tests are added: a new file is in the fast
 * set by default, and if it (or the code it runs) starts native git, a daemon, git http-backend,
 * Chromium or tsx, test:fast fails naming the call until the file builds its fixture in-process
 * (test/helpers/inProcessRepo.ts) or is listed below. `npm test` (vitest.config.ts) runs all.
 */
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** Test files that start child processes, and why. */
export const CHILD_PROCESS_TESTS = [
  'test/sync/**', // daemons in child processes against git http-backend
  'test/daemon/**', // `flowreg serve` in a child process
  'test/store/crash.test.ts', // a writer killed in a child process (tsx)
  'test/store/gitPrimitives.test.ts', // native git as the oracle
  'test/store/gitStore.test.ts', // native git fixtures and checks, gc and repack
  'test/store/remote.test.ts', // git http-backend
  'test/store/pushHook.test.ts', // git http-backend with a pre-receive hook
  'test/store/storageErrors.test.ts', // a small tmpfs (mount), native git fsck
  'test/service/flowService.test.ts', // native git fixtures and checks
  'test/service/liveSync.test.ts', // native git fixtures
  'test/cli/precommit.test.ts', // the command runs native git
  'test/diff/cli.test.ts', // `flowreg diff` reads revisions with native git
  'test/importExport/importExport.test.ts', // `flowreg export` reads versions with native git
  'test/render/mermaid.test.ts', // Chromium
  'test/render/renderSvg.test.ts', // Chromium
  'test/server/badInput.test.ts', // git status and fsck after each batch of requests
  'test/server/dbgptClients.test.ts', // checks commits with native git
  'test/server/writes.test.ts', // checks commits and git status with native git
  'test/server/corsBrowser.test.ts', // Chromium (playwright-core) calling flowreg from another origin
  'test/server/runtimeConnectTimeout.test.ts', // a listener that never accepts (python3)
  'test/web/**', // the web app in Chromium (playwright-core) against a daemon over native git fixtures; builds the app with vite
  'test/runtime/**', // a real DB-GPT (Python) in a child process group, and dbgpt_client run with Python
  'test/adopt/**', // the packed CLI in child processes, native git, a real DB-GPT, the pre-commit tool (Python)
];

const config = mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [...configDefaults.exclude, ...CHILD_PROCESS_TESTS],
      setupFiles: ['test/helpers/noChildProcesses.ts'],
      // worker threads, not forked processes: quicker to start, and not one child process at all
      pool: 'threads',
    },
  }),
);
// No globalSetup: it installs the real DB-GPT the runtime tests need, and none of them runs here.
// (`globalSetup: []` above would not do: mergeConfig concatenates arrays.)
config.test = { ...config.test, globalSetup: [] };

export default config;

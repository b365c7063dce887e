/**
 * Setup file of `npm run test:fast` (vitest.fast.config.ts): the fast set starts no child
 * process. Every function of node:child_process that starts one (spawn, exec, execFile, fork and
 * their Sync forms) throws instead, and a test during which one was called fails in afterEach
 * even when the code under test caught that error (gitRevisions, for one, turns any git failure
 * into "not inside a git repository"). A test file that needs native git, a daemon, git
 * http-backend, Chromium or tsx goes to CHILD_PROCESS_TESTS in vitest.fast.config.ts, or builds
 * its fixtures in-process (test/helpers/inProcessRepo.ts).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterAll, afterEach, expect } from 'vitest';

const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>;
const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

const started: string[] = [];

for (const name of STARTERS) {
  childProcess[name] = (...args: unknown[]): never => {
    const what = `child_process.${name}(${args
      .slice(0, 2)
      .map((a) => JSON.stringify(a))
      .join(', ')
      .slice(0, 200)})`;
    started.push(what);
    throw new Error(`test:fast starts no child processes, but this file called ${what}: list the file in CHILD_PROCESS_TESTS of vitest.fast.config.ts, or build its fixture in-process`);
  };
}
// `import { execFile } from 'node:child_process'` binds to the ES module's exports: update them too
syncBuiltinESMExports();

/** Fails when a child process was asked for since the last check (also from a hook). */
function check(): void {
  const calls = started.splice(0);
  if (calls.length > 0) {
    expect.fail(`test:fast starts no child processes, but this file called ${calls.join('; ')}: list the file in CHILD_PROCESS_TESTS of vitest.fast.config.ts, or build its fixture in-process`);
  }
}
afterEach(check);
afterAll(check);

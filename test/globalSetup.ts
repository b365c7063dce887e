/**
 * vitest globalSetup of `npm test` (vitest.config.ts; test:fast does not run it): installs what
 * the tests need from the system when it is missing (Chromium, Python 3.11: helpers/systemPackages.ts),
 * and makes sure the real DB-GPT the runtime tests (test/runtime/) run against is installed, and provides its venv
 * to the test files (`inject('dbgptVenv')`, see test/helpers/dbgpt/index.ts). The first run
 * installs it (about 6 minutes, once); FLOWREG_SKIP_DBGPT=1 leaves those tests out instead.
 */
import type { TestProject } from 'vitest/node';
import { ensureDbgptVenv } from './helpers/dbgpt/venv.ts';
import { CHROMIUM_NEED, ensureSystemPackages, PYTHON_NEED } from './helpers/systemPackages.ts';

export default async function setup(project: TestProject): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`flowreg test setup: ${line}\n`);
  ensureSystemPackages(process.env.FLOWREG_SKIP_DBGPT === '1' ? [CHROMIUM_NEED] : [CHROMIUM_NEED, PYTHON_NEED], log);
  if (process.env.FLOWREG_SKIP_DBGPT === '1') {
    const bar = '!'.repeat(100);
    process.stderr.write(
      `\n${bar}\n!!! FLOWREG_SKIP_DBGPT=1: the tests against a real DB-GPT are LEFT OUT. The tests in test/runtime/ are skipped;\n` +
        `!!! vitest's summary counts them as skipped. Unset FLOWREG_SKIP_DBGPT to run them (the first run installs DB-GPT, ~6 min).\n${bar}\n\n`,
    );
    project.provide('dbgptVenv', '');
    return;
  }
  project.provide('dbgptVenv', await ensureDbgptVenv());
}

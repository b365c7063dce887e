/**
 * The runtime tests' entry point: `describeDbgpt` (a describe that every file in test/runtime/
 * uses, skipped with FLOWREG_SKIP_DBGPT=1), the venv the globalSetup installed, and the helpers.
 */
import { describe, inject } from 'vitest';
import { dbgptVenvDir, isCompleteVenv, SKIP_DBGPT_HINT } from './venv.ts';

export { startDbgpt, freePort, type DbgptServer, type StartDbgptOptions } from './DbgptServer.ts';
export { ensureDbgptVenv, dbgptVenvDir, sitePackages, DBGPT_VERSION, SKIP_DBGPT_HINT } from './venv.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The DB-GPT venv test/globalSetup.ts made sure of; '' with FLOWREG_SKIP_DBGPT=1. */
    dbgptVenv: string;
  }
}

/** True when this run leaves out the tests that need a real DB-GPT (FLOWREG_SKIP_DBGPT=1). */
export const skipDbgpt = process.env.FLOWREG_SKIP_DBGPT === '1';

/** `describe` for the tests that run a real DB-GPT: skipped, as a whole, with FLOWREG_SKIP_DBGPT=1. */
export const describeDbgpt = describe.skipIf(skipDbgpt);

/**
 * The venv directory with DB-GPT in it: what the globalSetup provided, else (a file run by a
 * config without the globalSetup) the cached venv when it is complete.
 */
export function dbgptVenv(): string {
  let provided = '';
  try {
    provided = inject('dbgptVenv') ?? '';
  } catch {
    // not inside a vitest worker
  }
  if (provided !== '') return provided;
  const dir = dbgptVenvDir();
  if (isCompleteVenv(dir)) return dir;
  throw new Error(`no DB-GPT venv: run the runtime tests with vitest.config.ts (its globalSetup installs DB-GPT into ${dir}), or skip them: ${SKIP_DBGPT_HINT}`);
}

/**
 * Runs one of the test's Python scripts (DB-GPT's own client) with the DB-GPT venv's python and
 * reads the JSON it leaves in FLOWREG_RESULT_FILE. Not stdout: DB-GPT prints to it on import
 * ("Setting random seed to 42" whenever CI is set), so stdout is only shown when the script fails.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dbgptVenv } from './index.ts';

export async function runPythonScript<T>(script: string, args: string[], home: string): Promise<T> {
  mkdirSync(home, { recursive: true });
  const resultFile = join(home, 'result.json');
  const env = {
    ...process.env,
    HOME: home,
    DBGPT_HOME: home,
    DBGPTS_HOME: join(home, 'dbgpts'),
    DBGPTS_REPO_HOME: join(home, 'dbgpts', 'repos'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    PYTHONWARNINGS: 'ignore',
    FLOWREG_RESULT_FILE: resultFile,
  };
  const { stdout, stderr } = await promisify(execFile)(join(dbgptVenv(), 'bin', 'python'), [script, ...args], { env, timeout: 120_000, maxBuffer: 1 << 24 });
  let text: string;
  try {
    text = readFileSync(resultFile, 'utf8');
  } catch {
    throw new Error(`${script} left no result in ${resultFile}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  return JSON.parse(text) as T;
}

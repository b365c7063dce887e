/** Runs the flowreg CLI in-process with captured output, for the import/export/fmt tests. */
import { main } from '../../src/cli/main.ts';

/** What one CLI run printed and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `flowreg <argv…>` in `cwd` and captures stdout and stderr. */
export async function runCli(argv: string[], cwd: string): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    cwd,
    env: process.env,
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

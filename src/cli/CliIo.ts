/** What a CLI command may touch of the outside world; tests pass their own. */
export interface CliIo {
  cwd: string;
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The real process's IO. */
export function processIo(): CliIo {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}

/** Exit codes of every command: 0 ok, 1 findings or failure, 2 usage error. */
export const EXIT = { OK: 0, FAIL: 1, USAGE: 2 } as const;

/** Holds the exit code a command action decided on. */
export interface ExitBox {
  code: number;
}

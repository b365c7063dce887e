/** What every benchmark script shares: reading its `--name value` options and running children that announce a URL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);

/** The value after `--name` on the command line, or `dflt`. */
export function opt(name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? dflt) : dflt;
}

/** A child process and the URL it announced. */
export interface Child {
  proc: ChildProcess;
  url: string;
}

/** Starts `node <argv>` (in `cwd`), its stdout to `logFile`, and waits for `pattern`'s first group (the URL) there. */
export async function startChild(argv: string[], logFile: string, pattern: RegExp, cwd?: string): Promise<Child> {
  const fd = openSync(logFile, 'w');
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', fd, 'inherit'], env: process.env, ...(cwd ? { cwd } : {}) });
  closeSync(fd);
  const end = Date.now() + 600_000;
  for (;;) {
    const m = pattern.exec(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
    if (m) return { proc, url: m[1] as string };
    if (proc.exitCode !== null) throw new Error(`${argv.join(' ')} exited with ${proc.exitCode}`);
    if (Date.now() > end) throw new Error(`${argv.join(' ')} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a child with SIGTERM and waits for it to exit. */
export async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await exited;
}

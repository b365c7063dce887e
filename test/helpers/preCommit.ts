/**
 * The pre-commit framework (PyPI `pre-commit`, pinned in test/adopt/pre-commit-requirements.txt)
 * for the tests of flowreg's hook: a small venv of its own, made once with Python 3 into
 * `${XDG_CACHE_HOME:-~/.cache}/flowreg/pre-commit-<hash of the pins>` (the DB-GPT venv's Python
 * when there is no `python3` with venv), installed into `<dir>.partial-<pid>` and renamed when done.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PRE_COMMIT_REQUIREMENTS = resolve(import.meta.dirname, '../adopt/pre-commit-requirements.txt');

/** The venv folder for the current pins. */
export function preCommitVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const hash = createHash('sha256').update(readFileSync(PRE_COMMIT_REQUIREMENTS)).digest('hex').slice(0, 12);
  return join(cache, 'flowreg', `pre-commit-${hash}`);
}

/**
 * The venv's python, to run `python -m pre_commit …` (the venv was made under another name, so its
 * bin/ scripts name a folder that is gone), installing it first when needed (a few seconds, once).
 */
export function ensurePreCommit(pythons: string[] = ['python3']): string {
  const dir = preCommitVenvDir();
  const exe = join(dir, 'bin', 'python');
  if (existsSync(join(dir, '.complete'))) return exe;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const errors: string[] = [];
  for (const python of pythons) {
    const venv = spawnSync(python, ['-m', 'venv', partial], { encoding: 'utf8' });
    if (venv.status !== 0) {
      errors.push(`${python} -m venv: ${venv.stderr || venv.error?.message}`);
      continue;
    }
    const pip = spawnSync(join(partial, 'bin', 'python'), ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', PRE_COMMIT_REQUIREMENTS], { encoding: 'utf8' });
    if (pip.status !== 0) {
      rmSync(partial, { recursive: true, force: true });
      throw new Error(`pip install -r ${PRE_COMMIT_REQUIREMENTS} failed:\n${pip.stderr.slice(-2000)}`);
    }
    writeFileSync(join(partial, '.complete'), '');
    try {
      renameSync(partial, dir);
    } catch {
      // another run finished first: use its venv
      rmSync(partial, { recursive: true, force: true });
    }
    return exe;
  }
  throw new Error(`no Python with venv for pre-commit: ${errors.join('; ')}`);
}

/**
 * A git repository holding this checkout as it is now (tracked and untracked files, without what
 * .gitignore leaves out), committed and tagged `tag`: what pre-commit clones as the hook's
 * repository, without committing anything in the checkout itself.
 */
export function snapshotRepo(root: string, dest: string, tag: string, env: Record<string, string>): string {
  const run = (cwd: string, args: string[], input?: string): string => {
    const r = spawnSync('git', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28, ...(input !== undefined ? { input } : {}) });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const files = run(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(root, f)));
  mkdirSync(dest, { recursive: true });
  for (const f of new Set(files)) {
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    copyFileSync(join(root, f), join(dest, f)); // keeps the mode (bin/flowreg.js is executable)
  }
  run(dest, ['init', '-q', '-b', 'main']);
  run(dest, ['add', '-A']);
  run(dest, ['commit', '-q', '--no-verify', '-m', 'snapshot of the flowreg checkout under test']);
  run(dest, ['tag', tag]);
  return dest;
}

/** Finding flow files on disk for CLI commands: `*.yaml`/`*.yml` under paths, and the repository root. */
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { isFlowFileName } from '../core/flowPaths.ts';
import { FlowregError, isFlowregError } from '../errors/index.ts';

async function walk(dir: string, out: Set<string>): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    // Hidden folders (.git, .flowreg) never hold flows, and node_modules would only cost time.
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(p, out);
    } else if (isFlowFileName(entry.name)) {
      if (entry.isFile()) {
        out.add(p);
      } else if (entry.isSymbolicLink()) {
        // A linked file counts; a linked folder is not followed, so a link cycle cannot loop.
        const st = await stat(p).catch(() => undefined);
        if (st?.isFile()) out.add(p);
      }
    }
  }
}

/**
 * The flow files named by `paths` (resolved against `cwd`): a file is taken as given, whatever its
 * extension; a folder contributes every `*.yaml`/`*.yml` below it. Absolute paths, sorted, without
 * duplicates. A path that does not exist is an INVALID_INPUT error.
 */
export async function findFlowFiles(paths: string[], cwd: string): Promise<string[]> {
  const out = new Set<string>();
  for (const given of paths) {
    const p = resolve(cwd, given);
    const st = await stat(p).catch(() => undefined);
    if (st === undefined) throw new FlowregError('INVALID_INPUT', `no such file or folder: ${given}`, { path: given });
    if (st.isDirectory()) await walk(p, out);
    else out.add(p);
  }
  return [...out].sort();
}

/** A path as printed: relative to the cwd, with `/` on every platform (GitHub and SARIF want it). */
export function displayPath(cwd: string, abs: string): string {
  const rel = relative(cwd, abs);
  return (rel === '' ? abs : rel).split(sep).join('/');
}

/**
 * The flow files a command works on: the given paths, or the repository's `flows/` when none are
 * given. A path that does not exist is a mistake on the command line (USAGE, exit 2), not a finding.
 */
export async function commandFlowFiles(command: string, paths: string[], cwd: string): Promise<string[]> {
  const given = paths.length > 0 ? paths : [join(findRepoRoot(cwd), 'flows')];
  try {
    return await findFlowFiles(given, cwd);
  } catch (err) {
    if (isFlowregError(err, 'INVALID_INPUT')) throw new FlowregError('USAGE', `${command}: ${err.message}`, err.data, { cause: err });
    throw err;
  }
}

/**
 * The repository root for `cwd`: the nearest ancestor (or `cwd` itself) that holds `.git` or a
 * `schemas/` folder; `cwd` itself when there is none.
 */
export function findRepoRoot(cwd: string): string {
  const start = resolve(cwd);
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const schemas = join(dir, 'schemas');
    if (existsSync(schemas) && statSync(schemas).isDirectory()) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

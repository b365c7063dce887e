/**
 * Reads flow files at git revisions for `flowreg diff`, with the native `git` command: resolving
 * revisions and the merge-base with the main branch, listing changed paths, reading file texts
 * at a commit (one `git cat-file --batch` for all of them) or in the working tree.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isFlowFileName } from '../core/flowPaths.ts';
import { FlowregError } from '../errors/index.ts';

/** Branches tried, in order, as "the main branch" when no base is given. */
export const MAIN_BRANCHES = ['main', 'origin/main', 'master', 'origin/master'] as const;

/** A revision as the user named it and the commit it resolved to (null: no commit, an empty tree). */
export interface ResolvedRevision {
  rev: string;
  commit: string | null;
}

/** Git access of one repository; every path is relative to its root, with `/` separators. */
export interface GitRevisions {
  root: string;
  /** The commit a revision names; a USAGE error when it names none. */
  resolve(rev: string): ResolvedRevision;
  /** The best common ancestor of two revisions. */
  mergeBase(a: string, b: string): ResolvedRevision;
  /** The merge-base of HEAD with the first of MAIN_BRANCHES that exists (HEAD when none does). */
  defaultBase(): ResolvedRevision;
  /** Flow files (`*.yaml`, `*.yml`) that differ between `base` and `head` (null: the working tree, untracked files included). */
  changedPaths(base: ResolvedRevision, head: ResolvedRevision | null, pathspecs: string[]): string[];
  /** The text of each path at `rev` (null: the working tree); paths absent there are left out. */
  readFiles(rev: ResolvedRevision | null, paths: string[]): Map<string, string>;
}

/** Git access for the repository that contains `cwd`; INVALID_INPUT when there is none. */
export function gitRevisions(cwd: string, env: Record<string, string | undefined> = process.env): GitRevisions {
  const run = (args: string[], opts: { cwd?: string; input?: string | Buffer } = {}): Buffer =>
    execFileSync('git', args, {
      cwd: opts.cwd ?? cwd,
      env: env as NodeJS.ProcessEnv,
      input: opts.input,
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  let root: string;
  try {
    root = run(['rev-parse', '--show-toplevel']).toString('utf8').trim();
  } catch (err) {
    throw new FlowregError('INVALID_INPUT', `not inside a git repository: ${stderrOf(err)}`, { cwd }, { cause: err });
  }
  const git = (args: string[], input?: string | Buffer): Buffer => run(args, { cwd: root, input });
  const text = (args: string[]): string => git(args).toString('utf8');

  const tryResolve = (rev: string): string | null => {
    try {
      return text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).trim() || null;
    } catch {
      return null;
    }
  };
  const resolve = (rev: string): ResolvedRevision => {
    const commit = tryResolve(rev);
    if (commit === null) throw new FlowregError('USAGE', `unknown revision: ${rev}`, { rev });
    return { rev, commit };
  };
  /** The empty tree, to diff against when there is no commit yet. */
  const emptyTree = (): string => text(['hash-object', '-t', 'tree', '--stdin']).trim();
  const treeish = (r: ResolvedRevision): string => r.commit ?? emptyTree();

  return {
    root,
    resolve,
    mergeBase(a, b) {
      const ca = resolve(a).commit as string;
      const cb = resolve(b).commit as string;
      let commit: string;
      try {
        commit = text(['merge-base', ca, cb]).trim();
      } catch (err) {
        throw new FlowregError('USAGE', `${a} and ${b} have no common ancestor`, { a, b }, { cause: err });
      }
      return { rev: `merge-base of ${a} and ${b}`, commit };
    },
    defaultBase() {
      const head = tryResolve('HEAD');
      if (head === null) return { rev: 'empty repository', commit: null };
      for (const branch of MAIN_BRANCHES) {
        const c = tryResolve(branch);
        if (c === null) continue;
        try {
          const commit = text(['merge-base', head, c]).trim();
          return { rev: commit === head ? 'HEAD' : `merge-base of HEAD and ${branch}`, commit };
        } catch {
          // Unrelated histories: try the next candidate.
        }
      }
      return { rev: 'HEAD', commit: head };
    },
    changedPaths(base, head, pathspecs) {
      const specs = ['--', ...pathspecs];
      const diffArgs = ['-c', 'core.quotepath=off', 'diff', '--name-only', '-z', '--no-renames', '--no-ext-diff', treeish(base)];
      const out = new Set<string>();
      const add = (buf: Buffer): void => {
        for (const p of buf.toString('utf8').split('\0')) if (p !== '' && isFlowFileName(p)) out.add(p);
      };
      if (head === null) {
        add(git([...diffArgs, ...specs]));
        add(git(['ls-files', '-z', '--others', '--exclude-standard', ...specs]));
      } else {
        add(git([...diffArgs, treeish(head), ...specs]));
      }
      return [...out].sort();
    },
    readFiles(rev, paths) {
      const files = new Map<string, string>();
      if (rev === null) {
        for (const p of paths) {
          const abs = join(root, p);
          const st = statSync(abs, { throwIfNoEntry: false });
          if (st?.isFile()) files.set(p, readFileSync(abs, 'utf8'));
        }
        return files;
      }
      if (rev.commit === null) return files;
      // A path with a newline cannot be named on cat-file's line protocol; no flow name has one.
      const wanted = paths.filter((p) => !p.includes('\n'));
      if (wanted.length === 0) return files;
      const out = git(['cat-file', '--batch'], wanted.map((p) => `${rev.commit}:${p}\n`).join(''));
      let pos = 0;
      for (const p of wanted) {
        const eol = out.indexOf(0x0a, pos);
        if (eol < 0) break;
        const header = out.subarray(pos, eol).toString('utf8');
        pos = eol + 1;
        const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
        if (m === null) continue; // "<name> missing": not at that revision
        const size = Number(m[2]);
        if (m[1] === 'blob') files.set(p, out.subarray(pos, pos + size).toString('utf8'));
        pos += size + 1;
      }
      return files;
    },
  };
}

function stderrOf(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  const s = Buffer.isBuffer(stderr) ? stderr.toString('utf8') : typeof stderr === 'string' ? stderr : String(err);
  return s.trim().split('\n')[0] ?? '';
}

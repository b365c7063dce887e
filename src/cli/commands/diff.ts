import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Command, Option } from 'commander';
import { diffFlowSets, type FlowText } from '../../core/diffFlowSets.ts';
import { diffMarkdown } from '../../core/diffMarkdown.ts';
import { diffText } from '../../core/diffText.ts';
import { FlowregError } from '../../errors/index.ts';
import { EXIT } from '../CliIo.ts';
import { gitRevisions, type GitRevisions, type ResolvedRevision } from '../gitRevisions.ts';
import type { CommandFactory } from './index.ts';

/** The folder of flow files when no paths are given. */
const DEFAULT_PATHS = ['flows'];

interface DiffOptions {
  format: 'text' | 'json' | 'markdown';
  layout?: boolean;
  output?: string;
  exitCode?: boolean;
}

/**
 * `flowreg diff [<base>..<head>] [paths…]`: the semantic diff of every flow changed between two
 * revisions. Without a range: the merge-base of HEAD with the main branch against the working
 * tree; `<base>..` also ends at the working tree; `<a>...<b>` starts at their merge-base.
 */
export const diffCommand: CommandFactory = (io, exit) =>
  new Command('diff')
    .description('Show the semantic change of flows between two revisions (nodes, parameters, edges; layout ignored)')
    .argument('[range-and-paths...]', '<base>..<head> (head omitted = working tree), then files or folders (default: flows/)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--layout', 'also report positions, sizes and the viewport')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .option('--exit-code', 'exit with 1 when a flow changed, like git diff --exit-code')
    .addHelpText('after', [
      '',
      'Examples:',
      '  flowreg diff                          changes since the main branch, working tree included',
      '  flowreg diff origin/main..HEAD --format markdown -o flow-diff.md',
      '  flowreg diff HEAD~3.. flows/team-a    three commits back to now, one folder',
    ].join('\n'))
    .action((args: string[], opts: DiffOptions) => {
      const git = gitRevisions(io.cwd, io.env);
      const { base, head, paths } = parseArguments(git, io.cwd, args);
      const pathspecs = paths.length === 0 ? DEFAULT_PATHS : paths.map((p) => toPathspec(git.root, io.cwd, p));
      const changed = git.changedPaths(base, head, pathspecs);
      const read = (rev: ResolvedRevision | null): FlowText[] =>
        [...git.readFiles(rev, changed)].map(([path, text]) => ({ path, text }));
      const set = diffFlowSets(read(base), read(head), {
        layout: opts.layout === true,
        base: label(base),
        head: head === null ? null : label(head),
      });
      const body =
        opts.format === 'json' ? `${JSON.stringify({ ...set, baseCommit: base.commit, headCommit: head?.commit ?? null }, null, 2)}\n`
        : opts.format === 'markdown' ? diffMarkdown(set)
        : diffText(set);
      if (opts.output !== undefined) writeFileSync(resolve(io.cwd, opts.output), body);
      else io.stdout(body);
      exit.code = opts.exitCode === true && set.flows.length > 0 ? EXIT.FAIL : EXIT.OK;
    });

/**
 * Splits the arguments into a range and paths. The first argument is a range when it has `..`,
 * a path when it exists on disk, else a base revision when git knows it (like `git diff main`).
 */
function parseArguments(git: GitRevisions, cwd: string, args: string[]): { base: ResolvedRevision; head: ResolvedRevision | null; paths: string[] } {
  const [first, ...rest] = args;
  if (first === undefined) return { base: git.defaultBase(), head: null, paths: [] };
  const three = first.indexOf('...');
  const two = first.indexOf('..');
  if (three >= 0 || two >= 0) {
    const at = three >= 0 ? three : two;
    const left = first.slice(0, at) || 'HEAD';
    const right = first.slice(at + (three >= 0 ? 3 : 2));
    const head = right === '' ? null : git.resolve(right);
    const base = three >= 0 ? git.mergeBase(left, right === '' ? 'HEAD' : right) : git.resolve(left);
    return { base, head, paths: rest };
  }
  if (!existsSync(resolve(cwd, first))) {
    try {
      return { base: git.resolve(first), head: null, paths: rest };
    } catch {
      // Neither a file nor a revision: a path that exists only at the base (a deleted flow).
    }
  }
  return { base: git.defaultBase(), head: null, paths: args };
}

/** A path given on the command line as a pathspec relative to the repository root. */
function toPathspec(root: string, cwd: string, path: string): string {
  const rel = relative(root, resolve(cwd, path));
  if (rel.startsWith('..') || isAbsolute(rel)) throw new FlowregError('USAGE', `${path} is outside the repository ${root}`, { path });
  return rel === '' ? '.' : rel.split(sep).join('/');
}

/** How a revision is named in the output: as given, with its short commit id. */
function label(r: ResolvedRevision): string {
  if (r.commit === null) return r.rev;
  const short = r.commit.slice(0, 12);
  return r.rev === r.commit || r.commit.startsWith(r.rev) ? short : `${r.rev} (${short})`;
}

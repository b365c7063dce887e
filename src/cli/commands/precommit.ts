import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { checkRepository } from '../../core/checkRepository.ts';
import { locateFindings } from '../../core/locateFindings.ts';
import { FINDING_CODES } from '../../core/findingCodes.ts';
import { isFlowFileName } from '../../core/flowPaths.ts';
import { formatFindings } from '../../core/formatFindings.ts';
import { formatFlow } from '../../core/formatFlow.ts';
import { parseYaml } from '../../core/parseYaml.ts';
import { schemaRefFor } from '../../core/schemaRef.ts';
import { TOOL_VERSION } from '../../core/toolVersion.ts';
import type { Finding, FlowFile, JsonObject } from '../../core/types.ts';
import { sortFindings, validateFlowText } from '../../core/validateFlow.ts';
import { FlowregError } from '../../errors/index.ts';
import { EXIT, type CliIo } from '../CliIo.ts';
import type { CommandFactory } from './index.ts';
import { isObject } from '../../core/jsonAccess.ts';

/** Reads the staged (index) content of each path with one `git cat-file --batch`. */
function readStaged(root: string, paths: string[], env: CliIo['env']): Map<string, string> {
  const out = new Map<string, string>();
  if (paths.length === 0) return out;
  const raw = execFileSync('git', ['cat-file', '--batch'], { cwd: root, env: env as NodeJS.ProcessEnv, input: paths.map((p) => `:${p}\n`).join(''), maxBuffer: 1 << 30 });
  let i = 0;
  for (const p of paths) {
    const nl = raw.indexOf(0x0a, i);
    const header = raw.toString('utf8', i, nl);
    i = nl + 1;
    if (header.endsWith(' missing')) continue;
    const size = Number(header.split(' ')[2]);
    out.set(p, raw.toString('utf8', i, i + size));
    i += size + 1;
  }
  return out;
}

/** The top-level fields of a flow file without parsing its flow_data (canonical files keep it last). */
function headerOf(text: string): JsonObject | null {
  const at = text.indexOf('\nflow_data:');
  const v = parseYaml(at >= 0 ? text.slice(0, at + 1) : text).value;
  return isObject(v) ? v : null;
}

/**
 * `flowreg precommit`: the pre-commit hook (installed by simple-git-hooks). Validates the staged
 * content of every staged flow file, checks it is in canonical form (`flowreg fmt --check`), and
 * checks uid and name uniqueness against every flow file in the index.
 */
export const precommitCommand: CommandFactory = (io, exit) =>
  new Command('precommit')
    .description('Pre-commit hook: validate and fmt --check the staged flow files (uses the staged content, not the working tree)')
    .option('--flows-dir <dir>', 'folder of flow files in the repository', 'flows')
    .action((opts: { flowsDir: string }) => {
      const git = (args: string[], cwd = io.cwd): string =>
        execFileSync('git', args, { cwd, env: io.env as NodeJS.ProcessEnv, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
      let root: string;
      try {
        root = git(['rev-parse', '--show-toplevel']).trim();
      } catch {
        throw new FlowregError('USAGE', 'precommit: not inside a git repository');
      }
      const z = (s: string): string[] => s.split('\0').filter((p) => isFlowFileName(p));
      const staged = z(git(['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR', '--', opts.flowsDir], root));
      if (staged.length === 0) return;
      const all = z(git(['ls-files', '-z', '--', opts.flowsDir], root));
      const texts = readStaged(root, all, io.env);
      const findings: Finding[] = [];
      for (const path of staged) {
        const text = texts.get(path);
        if (text === undefined) continue;
        const res = validateFlowText(text, { file: path });
        findings.push(...res.findings);
        const parsed = parseYaml(text).value;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          let canonical = '';
          try {
            canonical = formatFlow(parsed, { schemaRef: schemaRefFor(path) });
          } catch {
            canonical = text;
          }
          if (canonical !== text) {
            findings.push({ code: 'NOT_CANONICAL', severity: FINDING_CODES.NOT_CANONICAL.severity, path: '', file: path, line: 1, col: 1, message: `not in canonical form; run: npx flowreg fmt ${path} && git add ${path}` });
          }
        }
      }
      const entries: { file: string; value: FlowFile }[] = [];
      for (const [file, text] of texts) {
        const h = headerOf(text);
        if (h && typeof h.uid === 'string' && typeof h.name === 'string') entries.push({ file, value: h as unknown as FlowFile });
      }
      const touched = new Set(staged);
      const repo = checkRepository(entries).filter((f) => touched.has(f.file));
      for (const file of new Set(repo.map((f) => f.file))) {
        findings.push(...locateFindings(texts.get(file) ?? '', repo.filter((f) => f.file === file)));
      }
      const sorted = sortFindings(findings);
      if (sorted.length > 0) io.stderr(formatFindings({ findings: sorted, filesChecked: staged.length }, 'text', { toolVersion: TOOL_VERSION }));
      exit.code = sorted.some((f) => f.severity === 'error') ? EXIT.FAIL : EXIT.OK;
    });

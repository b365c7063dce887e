import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { Command } from 'commander';
import { formatFlow } from '../../core/formatFlow.ts';
import { parseYaml } from '../../core/parseYaml.ts';
import { schemaRefFor } from '../../core/schemaRef.ts';
import type { JsonObject } from '../../core/types.ts';
import { EXIT } from '../CliIo.ts';
import { commandFlowFiles, displayPath, findRepoRoot } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';


/** The canonical text of the flow file at `abs`, or the findings that stop it from being formatted. */
export function formatFile(abs: string, text: string): { text: string } | { errors: string[] } {
  const parsed = parseYaml(text);
  const errors = parsed.findings.filter((f) => f.severity === 'error');
  if (parsed.value === undefined || errors.length > 0) {
    return { errors: errors.map((f) => `${f.line}:${f.col}: ${f.message} (${f.code})`) };
  }
  const root = findRepoRoot(dirname(abs));
  const rel = relative(root, abs).split(sep).join('/');
  return { text: formatFlow(parsed.value as JsonObject, { schemaRef: schemaRefFor(rel) }) };
}

/**
 * `flowreg fmt [paths…] [--check]`: rewrites flow files into canonical form (key order, scalar
 * styles, modeline pointing at the repository's schema). `--check` writes nothing and lists the
 * files that differ. A file that does not parse is reported as `file:line:col` and left untouched.
 * Exit 1 when a file differs under --check or does not parse.
 */
export const fmtCommand: CommandFactory = (io, exit) =>
  new Command('fmt')
    .description('Rewrite flow files into canonical form (--check: only list the files that differ)')
    .argument('[paths...]', 'flow files or folders searched for *.yaml/*.yml (default: flows/ of the repository)')
    .option('--check', 'write nothing; list files that are not canonical and exit 1 if any', false)
    .action(async (paths: string[], opts: { check: boolean }) => {
      const files = await commandFlowFiles('fmt', paths, io.cwd);
      let differ = 0;
      let broken = 0;
      for (const abs of files) {
        const shown = displayPath(io.cwd, abs);
        const before = readFileSync(abs, 'utf8');
        const result = formatFile(abs, before);
        if ('errors' in result) {
          broken++;
          for (const e of result.errors) io.stderr(`${shown}:${e}\n`);
          continue;
        }
        if (result.text === before) continue;
        differ++;
        if (opts.check) {
          io.stdout(`${shown}\n`);
        } else {
          writeFileSync(abs, result.text);
          io.stdout(`formatted ${shown}\n`);
        }
      }
      if (opts.check && differ > 0) io.stderr(`flowreg fmt: ${differ} file(s) not in canonical form; run flowreg fmt\n`);
      exit.code = broken > 0 || (opts.check && differ > 0) ? EXIT.FAIL : EXIT.OK;
    });

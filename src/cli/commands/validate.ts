import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { checkRepository } from '../../core/checkRepository.ts';
import { FINDING_FORMATS, formatFindings, type FindingFormat, type FindingReport } from '../../core/formatFindings.ts';
import { locateFindings } from '../../core/locateFindings.ts';
import { TOOL_VERSION } from '../../core/toolVersion.ts';
import { sortFindings, validateFlowText } from '../../core/validateFlow.ts';
import type { Finding, FlowFile } from '../../core/types.ts';
import { EXIT } from '../CliIo.ts';
import { commandFlowFiles, displayPath } from '../flowFiles.ts';
import type { CommandFactory } from './index.ts';


/**
 * Runs the whole pipeline over flow files: read, parse, schema, graph and per-file rules for
 * each, then the repository rules across all of them. Findings carry paths relative to `cwd`.
 */
export function validateFiles(files: string[], cwd: string): FindingReport {
  const findings: Finding[] = [];
  const entries: { file: string; value: FlowFile }[] = [];
  const absOf = new Map<string, string>();
  for (const abs of files) {
    const file = displayPath(cwd, abs);
    absOf.set(file, abs);
    const result = validateFlowText(readFileSync(abs, 'utf8'), { file });
    findings.push(...result.findings);
    if (result.value !== undefined) entries.push({ file, value: result.value });
  }
  const repo = checkRepository(entries);
  // Repository findings are rare: read those few files again for their positions.
  const byFile = new Map<string, Finding[]>();
  for (const f of repo) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  for (const [file, list] of byFile) {
    findings.push(...locateFindings(readFileSync(absOf.get(file) ?? file, 'utf8'), list));
  }
  return { findings: sortFindings(findings), filesChecked: files.length };
}

/** `flowreg validate [paths...]`: validates flow files and prints findings in one of four formats. */
export const validateCommand: CommandFactory = (io, exit) =>
  new Command('validate')
    .description('Validate flow files: YAML, JSON Schema, graph rules and repository rules (uid, name, file name, secrets)')
    .argument('[paths...]', 'flow files or folders searched for *.yaml/*.yml (default: flows/ of the repository)')
    .addOption(new Option('--format <format>', 'output format').choices([...FINDING_FORMATS]).default('text'))
    .option('--strict', 'fail on warnings too', false)
    .action(async (paths: string[], opts: { format: FindingFormat; strict: boolean }) => {
      const files = await commandFlowFiles('validate', paths, io.cwd);
      const report = validateFiles(files, io.cwd);
      io.stdout(formatFindings(report, opts.format, { toolVersion: TOOL_VERSION }));
      const errors = report.findings.filter((f) => f.severity === 'error').length;
      const warnings = report.findings.length - errors;
      exit.code = errors > 0 || (opts.strict && warnings > 0) ? EXIT.FAIL : EXIT.OK;
    });

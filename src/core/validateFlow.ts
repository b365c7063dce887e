import { checkGraph } from './checkGraph.ts';
import { checkFileRules } from './checkRepository.ts';
import { FINDING_CODES } from './findingCodes.ts';
import { flowSchema } from './flowSchema.ts';
import { locateFindings } from './locateFindings.ts';
import { parseYaml } from './parseYaml.ts';
import type { Finding, FlowData, FlowFile } from './types.ts';
import { workCounters } from './workCounters.ts';

/** The outcome of validating one flow file: its value when it passed the schema, and every finding. */
export interface FlowValidation {
  value?: FlowFile;
  findings: Finding[];
}

function hasError(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** Findings in reading order: by file, line, column, then code. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)));
}

/**
 * Schema → graph → per-file repository rules over a parsed value. Each stage runs only when the
 * previous one found no error (warnings do not stop it); `value` is set once the schema passed.
 */
function runStages(value: unknown, file: string): FlowValidation {
  workCounters.validations++;
  const findings = flowSchema.check(value);
  if (hasError(findings)) return { findings };
  const flow = value as FlowFile;
  const fd = flow.flow_data;
  if (fd !== undefined && fd !== null) findings.push(...checkGraph(fd as FlowData));
  if (!hasError(findings)) findings.push(...checkFileRules(flow, file));
  return { value: flow, findings };
}

/** The YAML reader reports the `yaml` package's warnings (unknown tags, directives) as YAML_SYNTAX warnings; the registry keeps them apart. */
function yamlWarning(f: Finding): Finding {
  return f.code === 'YAML_SYNTAX' && f.severity === 'warning' ? { ...f, code: 'YAML_WARNING' } : f;
}

function withFile(findings: Finding[], file: string): Finding[] {
  return findings.map((f) => (f.file === file ? f : { ...f, file }));
}

/**
 * Validates the text of one flow file: YAML parse → JSON Schema → graph rules → per-file
 * repository rules, with the line and column of every finding. Never throws on user input.
 */
export function validateFlowText(text: string, opts: { file: string }): FlowValidation {
  const file = opts.file;
  const parsed = parseYaml(text, file);
  const yamlFindings = withFile(parsed.findings, file).map(yamlWarning);
  if (parsed.value === undefined) return { findings: sortFindings(yamlFindings) };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const found = value === null ? 'it is empty' : Array.isArray(value) ? 'it is a list' : `it is a ${typeof value}`;
    const f: Finding = {
      code: 'YAML_NOT_MAPPING',
      severity: FINDING_CODES.YAML_NOT_MAPPING.severity,
      path: '',
      file,
      line: 0,
      col: 0,
      message: `a flow file must be one YAML mapping (uid, name, label, ...), but ${found}`,
    };
    return { findings: sortFindings([...yamlFindings, ...locateFindings(text, [f])]) };
  }
  const staged = runStages(value, file);
  // Positions cost a second parse, so only files with findings pay for them.
  const located = staged.findings.length > 0 ? locateFindings(text, withFile(staged.findings, file)) : [];
  const out: FlowValidation = { findings: sortFindings([...yamlFindings, ...located]) };
  if (staged.value !== undefined) out.value = staged.value;
  return out;
}

/**
 * Validates a flow value that did not come from YAML (a REST body): the same stages minus the
 * parse, without positions. The file-name rule runs only when `file` is given.
 */
export function validateFlowValue(value: unknown, opts: { file?: string } = {}): Finding[] {
  const file = opts.file ?? '';
  return withFile(runStages(value, file).findings, file);
}

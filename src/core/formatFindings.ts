import { FINDING_CODES, isFindingCode, type FindingCode } from './findingCodes.ts';
import type { Finding } from './types.ts';

/** The output formats of `flowreg validate`. */
export const FINDING_FORMATS = ['text', 'json', 'github', 'sarif'] as const;
export type FindingFormat = (typeof FINDING_FORMATS)[number];

/** What a validation run found: the findings (paths relative to the cwd) and how many files it read. */
export interface FindingReport {
  findings: Finding[];
  filesChecked: number;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function counts(findings: Finding[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const f of findings) if (f.severity === 'error') errors++;
  return { errors, warnings: findings.length - errors };
}

/** The closing line of the text and github formats, e.g. `3 files checked: 1 error, 2 warnings`. */
export function summaryLine(report: FindingReport): string {
  const { errors, warnings } = counts(report.findings);
  return `${plural(report.filesChecked, 'file')} checked: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

function position(f: Finding): string {
  return f.line > 0 ? `${f.file}:${f.line}:${f.col}` : f.file;
}

function text(report: FindingReport): string {
  const lines = report.findings.map((f) => `${position(f)} ${f.severity} ${f.code} ${f.message}`);
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function json(report: FindingReport): string {
  const { errors, warnings } = counts(report.findings);
  const findings = report.findings.map((f) => ({ file: f.file, line: f.line, col: f.col, severity: f.severity, code: f.code, path: f.path, message: f.message }));
  return `${JSON.stringify({ files: report.filesChecked, errors, warnings, findings }, null, 2)}\n`;
}

// GitHub workflow commands: the message escapes %, CR and LF; properties also `:` and `,`.
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function github(report: FindingReport): string {
  const lines = report.findings.map((f) => {
    const props = [`file=${escapeProperty(f.file)}`];
    if (f.line > 0) props.push(`line=${f.line}`, `col=${f.col}`);
    props.push(`title=${escapeProperty(f.code)}`);
    return `::${f.severity} ${props.join(',')}::${escapeData(f.message)}`;
  });
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function sarif(report: FindingReport, toolVersion: string): string {
  const codes = Object.keys(FINDING_CODES) as FindingCode[];
  const index = new Map(codes.map((c, i) => [c, i]));
  const rules = codes.map((id) => ({
    id,
    shortDescription: { text: FINDING_CODES[id].summary },
    defaultConfiguration: { level: FINDING_CODES[id].severity },
    properties: { stage: FINDING_CODES[id].stage },
  }));
  const results = report.findings.map((f) => {
    const location: Record<string, unknown> = { artifactLocation: { uri: f.file.replace(/\\/g, '/') } };
    // SARIF lines are 1-based; a finding without a position names only the file.
    if (f.line > 0) location.region = { startLine: f.line, startColumn: Math.max(f.col, 1) };
    const result: Record<string, unknown> = {
      ruleId: f.code,
      level: f.severity,
      message: { text: f.message },
      locations: [{ physicalLocation: location, logicalLocations: [{ fullyQualifiedName: f.path === '' ? '/' : f.path, kind: 'member' }] }],
    };
    if (isFindingCode(f.code)) result.ruleIndex = index.get(f.code);
    return result;
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{ tool: { driver: { name: 'flowreg', version: toolVersion, rules } }, results, columnKind: 'utf16CodeUnits' }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/** Renders a validation report in one of FINDING_FORMATS; pure, so every caller prints the same. */
export function formatFindings(report: FindingReport, format: FindingFormat, opts: { toolVersion?: string } = {}): string {
  switch (format) {
    case 'text':
      return text(report);
    case 'json':
      return json(report);
    case 'github':
      return github(report);
    case 'sarif':
      return sarif(report, opts.toolVersion ?? '0.0.0');
  }
}

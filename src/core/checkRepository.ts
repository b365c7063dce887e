import { FINDING_CODES, type FindingCode } from './findingCodes.ts';
import type { Finding, FlowFile } from './types.ts';

function finding(code: FindingCode, path: string, file: string, message: string): Finding {
  return { code, severity: FINDING_CODES[code].severity, path, file, line: 0, col: 0, message };
}

/** The last segment of a path, whatever the separator: core has no `node:path`. */
function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

/** A `${...}` reference: the only value a secret variable may hold in git. */
const REFERENCE_RE = /^\$\{[^]*\}$/;

/**
 * The repository rules that need only one file: it is named `<name>.yaml` (skipped when `file`
 * is empty, as for REST bodies), and a secret variable holds a `${...}` reference or nothing.
 */
export function checkFileRules(value: FlowFile, file: string): Finding[] {
  const out: Finding[] = [];
  if (file !== '') {
    const expected = `${value.name}.yaml`;
    const actual = baseName(file);
    if (actual !== expected) {
      out.push(finding('FILE_NAME_MISMATCH', '/name', file, `the flow is named "${value.name}", so its file must be ${expected}, not ${actual}`));
    }
  }
  (value.variables ?? []).forEach((v, i) => {
    if (v.category !== 'secret') return;
    const literal = v.value;
    if (literal === undefined || literal === null || (typeof literal === 'string' && REFERENCE_RE.test(literal))) return;
    const key = typeof v.key === 'string' ? ` "${v.key}"` : '';
    out.push(
      finding(
        'SECRET_LITERAL',
        `/variables/${i}/value`,
        file,
        `secret variable${key} holds a literal value; a secret may only hold a reference like \${${typeof v.key === 'string' ? v.key : 'key'}:name@global}, its value lives in DB-GPT's variable store`,
      ),
    );
  });
  return out;
}

/**
 * The rules across all flow files of a repository: uid and name are unique. Every file involved
 * gets a finding that names the other file(s).
 */
export function checkRepository(entries: { file: string; value: FlowFile }[]): Finding[] {
  const out: Finding[] = [];
  for (const [key, code] of [
    ['uid', 'UID_DUPLICATE'],
    ['name', 'NAME_DUPLICATE'],
  ] as const) {
    const groups = new Map<string, string[]>();
    for (const e of entries) {
      const v = e.value[key];
      const files = groups.get(v) ?? [];
      files.push(e.file);
      groups.set(v, files);
    }
    for (const [v, files] of groups) {
      if (files.length < 2) continue;
      for (const file of files) {
        const others = files.filter((f) => f !== file);
        const list = others.length > 0 ? others.join(', ') : file;
        out.push(finding(code, `/${key}`, file, `${key} "${v}" is also used by ${list}; ${key}s must be unique in the repository`));
      }
    }
  }
  return out;
}

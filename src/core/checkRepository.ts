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
 * The rules across all flow files of a repository: uid and name are unique, and no two names
 * differ only in case (their files could not coexist on a case-insensitive file system, and the
 * store, which compares names without case, would refuse every write to either). Every file
 * involved gets a finding that names the other file(s).
 */
export function checkRepository(entries: { file: string; value: FlowFile }[]): Finding[] {
  const out: Finding[] = [];
  const uids = new Map<string, string[]>();
  for (const e of entries) uids.set(e.value.uid, [...(uids.get(e.value.uid) ?? []), e.file]);
  for (const [uid, files] of uids) {
    if (files.length < 2) continue;
    for (const file of files) out.push(finding('UID_DUPLICATE', '/uid', file, `uid "${uid}" is also used by ${others(files, file)}; uids must be unique in the repository`));
  }
  // names grouped without case; within a group, the same name is NAME_DUPLICATE, another case NAME_CASE_CLASH
  const names = new Map<string, { file: string; name: string }[]>();
  for (const e of entries) {
    const name = e.value.name;
    const key = name.toLowerCase();
    names.set(key, [...(names.get(key) ?? []), { file: e.file, name }]);
  }
  for (const group of names.values()) {
    if (group.length < 2) continue;
    for (const { file, name } of group) {
      const same = group.filter((g) => g.name === name).map((g) => g.file);
      if (same.length > 1) out.push(finding('NAME_DUPLICATE', '/name', file, `name "${name}" is also used by ${others(same, file)}; names must be unique in the repository`));
      const clashes = group.filter((g) => g.name !== name);
      if (clashes.length > 0) {
        const list = clashes.map((g) => `"${g.name}" (${g.file})`).join(', ');
        out.push(
          finding(
            'NAME_CASE_CLASH',
            '/name',
            file,
            `name "${name}" differs only in case from ${list}; names must be unique regardless of case, as file names are on Windows and macOS, and flowreg refuses writes to either`,
          ),
        );
      }
    }
  }
  return out;
}

/** The files of `files` other than `file`, for messages (the file itself when it is listed twice). */
function others(files: string[], file: string): string {
  const rest = files.filter((f) => f !== file);
  return rest.length > 0 ? rest.join(', ') : file;
}

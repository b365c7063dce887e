import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFiles } from '../../src/cli/commands/validate.ts';
import { FINDING_CODES } from '../../src/core/findingCodes.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const INVALID = join(FIXTURES, 'invalid');
const VALID = join(FIXTURES, 'valid');

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? yamlFilesUnder(p) : name.endsWith('.yaml') ? [p] : [];
    });
}

/** The `# expect: CODE LINE:COL` lines of a fixture, in order. */
function expectations(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const m = /^# expect: ([A-Z_]+ \d+:\d+)$/.exec(line);
      return m ? [m[1] as string] : [];
    });
}

/** One case per top-level entry of invalid/: a file, or a folder validated as one repository. */
const cases = readdirSync(INVALID)
  .sort()
  .map((name) => {
    const p = join(INVALID, name);
    return statSync(p).isDirectory() ? { name, root: p, files: yamlFilesUnder(p) } : { name, root: INVALID, files: [p] };
  });

describe('invalid fixtures', () => {
  it.each(cases)('$name reports exactly the findings it expects, at their line and column', ({ root, files }) => {
    const report = validateFiles(files, root);
    for (const file of files) {
      const expected = expectations(file);
      expect(expected.length).toBeGreaterThan(0);
      const rel = file.slice(root.length + 1);
      const actual = report.findings.filter((f) => f.file === rel).map((f) => `${f.code} ${f.line}:${f.col}`);
      expect(actual).toEqual(expected);
    }
  });

  it('covers every finding code of the registry with at least one fixture', () => {
    const covered = new Set(cases.flatMap(({ files }) => files.flatMap((f) => expectations(f).map((e) => e.split(' ')[0]))));
    // format findings come from the pre-commit hook, not the validator (tested in test/cli/precommit.test.ts);
    // store findings from the daemon's reading of the working tree (tested in test/store/gitStore.test.ts)
    const missing = Object.entries(FINDING_CODES)
      .filter(([code, info]) => info.stage !== 'format' && info.stage !== 'store' && !covered.has(code))
      .map(([code]) => code);
    expect(missing).toEqual([]);
  });

  it('names each single-file fixture after the code it exists for', () => {
    for (const { name, files } of cases) {
      const code = name.replace(/\.yaml$/, '').toUpperCase().replace(/-/g, '_');
      expect(Object.keys(FINDING_CODES)).toContain(code);
      expect(files.flatMap(expectations).map((e) => e.split(' ')[0])).toContain(code);
    }
  });
});

describe('valid fixtures', () => {
  const files = yamlFilesUnder(VALID);

  it('has the DB-GPT-accepted edge cases', () => {
    expect(files.map((f) => f.slice(VALID.length + 1))).toEqual(['defaults-omitted.yaml', 'lax-values.yaml', 'minimal-operator.yaml', 'python-flow.yaml', 'variables.yaml']);
  });

  it('produce no finding, alone or together', () => {
    const report = validateFiles(files, VALID);
    expect(report.findings).toEqual([]);
    expect(report.filesChecked).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/core/checkRepository.ts';
import type { FlowFile } from '../../src/core/types.ts';

const entry = (file: string, uid: string, name: string): { file: string; value: FlowFile } => ({ file, value: { uid, name, label: name } as FlowFile });

describe('checkRepository: names are unique regardless of case', () => {
  it('reports names that differ only in case as NAME_CASE_CLASH on each file, naming the other', () => {
    const fs = checkRepository([entry('flows/a/Twin.yaml', 'u-1', 'Twin'), entry('flows/b/twin.yaml', 'u-2', 'twin'), entry('flows/other.yaml', 'u-3', 'other')]);
    expect(fs.map((f) => `${f.file} ${f.code} ${f.path}`)).toEqual(['flows/a/Twin.yaml NAME_CASE_CLASH /name', 'flows/b/twin.yaml NAME_CASE_CLASH /name']);
    expect(fs[0]?.message).toBe(
      'name "Twin" differs only in case from "twin" (flows/b/twin.yaml); names must be unique regardless of case, as file names are on Windows and macOS, and flowreg refuses writes to either',
    );
  });

  it('keeps NAME_DUPLICATE for the same name and adds NAME_CASE_CLASH for another case in the same group', () => {
    const fs = checkRepository([entry('flows/a/x.yaml', 'u-1', 'x'), entry('flows/b/x.yaml', 'u-2', 'x'), entry('flows/X.yaml', 'u-3', 'X')]);
    expect(fs.map((f) => `${f.file} ${f.code}`).sort()).toEqual([
      'flows/X.yaml NAME_CASE_CLASH',
      'flows/a/x.yaml NAME_CASE_CLASH',
      'flows/a/x.yaml NAME_DUPLICATE',
      'flows/b/x.yaml NAME_CASE_CLASH',
      'flows/b/x.yaml NAME_DUPLICATE',
    ]);
    expect(fs.find((f) => f.file === 'flows/X.yaml')?.message).toContain('from "x" (flows/a/x.yaml), "x" (flows/b/x.yaml)');
  });

  it('still reports duplicate uids, and nothing for distinct names', () => {
    const fs = checkRepository([entry('flows/a.yaml', 'u-1', 'a'), entry('flows/b.yaml', 'u-1', 'b')]);
    expect(fs.map((f) => `${f.file} ${f.code}`)).toEqual(['flows/a.yaml UID_DUPLICATE', 'flows/b.yaml UID_DUPLICATE']);
  });
});

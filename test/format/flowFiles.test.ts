import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFlowFiles, findRepoRoot } from '../../src/cli/flowFiles.ts';
import { isFlowFileName } from '../../src/core/flowPaths.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';

describe('findFlowFiles', () => {
  it('lists *.yaml and *.yml below folders, sorted, skipping hidden folders and other files', async () => {
    const dir = tempDir();
    writeFiles(dir, {
      'flows/b.yaml': 'x',
      'flows/a.yml': 'x',
      'flows/team-a/c.yaml': 'x',
      'flows/readme.md': 'x',
      'flows/.hidden/d.yaml': 'x',
      'flows/node_modules/e.yaml': 'x',
      'other/z.yaml': 'x',
    });
    const files = await findFlowFiles(['flows'], dir);
    expect(files).toEqual([join(dir, 'flows/a.yml'), join(dir, 'flows/b.yaml'), join(dir, 'flows/team-a/c.yaml')]);
  });

  it('takes a named file whatever its extension, and drops duplicates', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'flows/a.yaml': 'x', 'notes.txt': 'x' });
    const files = await findFlowFiles(['notes.txt', 'flows', 'flows/a.yaml', join(dir, 'flows/a.yaml')], dir);
    expect(files).toEqual([join(dir, 'flows/a.yaml'), join(dir, 'notes.txt')]);
  });

  it('follows a linked file but not a linked folder', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'real/x.yaml': 'x', 'flows/a.yaml': 'x' });
    symlinkSync(join(dir, 'real/x.yaml'), join(dir, 'flows/link.yaml'));
    symlinkSync(join(dir, 'flows'), join(dir, 'flows/loop'));
    expect(await findFlowFiles(['flows'], dir)).toEqual([join(dir, 'flows/a.yaml'), join(dir, 'flows/link.yaml')]);
  });

  it('refuses a path that does not exist with INVALID_INPUT', async () => {
    const dir = tempDir();
    const err: unknown = await findFlowFiles(['missing'], dir).catch((e: unknown) => e);
    expect(isFlowregError(err, 'INVALID_INPUT')).toBe(true);
    expect((err as Error).message).toContain('missing');
  });

  it('knows flow file names', () => {
    expect(isFlowFileName('a.yaml')).toBe(true);
    expect(isFlowFileName('a.yml')).toBe(true);
    expect(isFlowFileName('a.yaml.bak')).toBe(false);
    expect(isFlowFileName('a.json')).toBe(false);
  });
});

describe('findRepoRoot', () => {
  it('finds the nearest ancestor holding .git', async () => {
    const repo = await inProcessRepo();
    mkdirSync(join(repo, 'flows/team-a'), { recursive: true });
    expect(findRepoRoot(join(repo, 'flows/team-a'))).toBe(repo);
    expect(findRepoRoot(repo)).toBe(repo);
  });

  it('finds the nearest ancestor holding schemas/ when there is no git', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'schemas'));
    mkdirSync(join(dir, 'flows/x'), { recursive: true });
    expect(findRepoRoot(join(dir, 'flows/x'))).toBe(dir);
  });

  it('ignores a file named schemas', () => {
    const dir = tempDir();
    writeFiles(dir, { 'sub/schemas': 'not a folder', 'schemas/flow.schema.json': '{}' });
    expect(findRepoRoot(join(dir, 'sub'))).toBe(dir);
  });
});

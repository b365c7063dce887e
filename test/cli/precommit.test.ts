import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { smallFlow } from '../helpers/flows.ts';
import { git, GIT_ENV, tempRepo, writeFiles } from '../helpers/tmp.ts';

const bin = resolve(import.meta.dirname, '../../bin/flowreg.js');

async function precommit(cwd: string): Promise<{ code: number; err: string }> {
  let err = '';
  const io: CliIo = { cwd, env: { ...process.env, ...GIT_ENV }, stdout: () => undefined, stderr: (s) => (err += s) };
  const code = await main(['precommit'], io);
  return { code, err };
}

const canonical = (uid: string, name: string): string => formatFlow(smallFlow(uid, name), { schemaRef: '../schemas/flow.schema.json' });

describe('flowreg precommit', () => {
  it('passes valid canonical staged flows and ignores commits without flow files', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    expect((await precommit(dir)).code).toBe(0);
    writeFiles(dir, { 'flows/a.yaml': canonical('u-a', 'a') });
    git(dir, ['add', '-A']);
    expect(await precommit(dir)).toEqual({ code: 0, err: '' });
  });

  it('fails on staged content that is invalid or not canonical, even when the working tree is fixed', async () => {
    const dir = tempRepo({ 'flows/a.yaml': canonical('u-a', 'a') });
    const good = readFileSync(join(dir, 'flows/a.yaml'), 'utf8');
    writeFiles(dir, { 'flows/a.yaml': good.replace('target: operator_b_0\n', 'target: nowhere\n') });
    git(dir, ['add', 'flows/a.yaml']);
    writeFiles(dir, { 'flows/a.yaml': good });
    const bad = await precommit(dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/flows\/a\.yaml:\d+:\d+ error EDGE_TARGET_MISSING/);
    git(dir, ['add', 'flows/a.yaml']);
    writeFiles(dir, { 'flows/b.yaml': good.replace('uid: u-a', 'uid: u-b').replace('name: a\n', 'name: b\n').replace('label: a\n', 'label:   a\n') });
    git(dir, ['add', 'flows/b.yaml']);
    const fmt = await precommit(dir);
    expect(fmt.code).toBe(1);
    expect(fmt.err).toContain('flows/b.yaml:1:1 error NOT_CANONICAL');
  });

  it('fails on a uid already used by another file in the index', async () => {
    const dir = tempRepo({ 'flows/a.yaml': canonical('u-a', 'a') });
    writeFiles(dir, { 'flows/b.yaml': canonical('u-a', 'b') });
    git(dir, ['add', '-A']);
    const res = await precommit(dir);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/flows\/b\.yaml:2:6 error UID_DUPLICATE/);
  });

  it('blocks a real git commit through the installed hook', () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const hook = join(dir, '.git/hooks/pre-commit');
    writeFileSync(hook, `#!/bin/sh\nexec node ${JSON.stringify(bin)} precommit\n`);
    chmodSync(hook, 0o755);
    writeFiles(dir, { 'flows/a.yaml': canonical('u-a', 'a').replace('name: a\n', 'name: a b\n') });
    git(dir, ['add', '-A']);
    expect(() => git(dir, ['commit', '-qm', 'bad flow'])).toThrow(/SCHEMA_PATTERN|FILE_NAME/);
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    writeFiles(dir, { 'flows/a.yaml': canonical('u-a', 'a') });
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-qm', 'good flow']);
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('2');
  });
});

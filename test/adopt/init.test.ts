/**
 * `flowreg init [DIR]`: creates or adopts a flows repository, prints what it did, is idempotent,
 * and never overwrites a file of the user's without --force.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/CliIo.ts';
import { main } from '../../src/cli/main.ts';
import { flowSchema } from '../../src/core/flowSchema.ts';
import { git, GIT_ENV, tempDir, tempRepo } from '../helpers/tmp.ts';

async function run(cwd: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = { cwd, env: { ...process.env, ...GIT_ENV }, stdout: (s) => (out.stdout += s), stderr: (s) => (out.stderr += s) };
  const code = await main(argv, io);
  return { code, ...out };
}

const FILES = ['schemas/flow.schema.json', 'flowreg.config.json', '.github/workflows/flows.yml', '.pre-commit-config.yaml'];

describe('flowreg init', () => {
  it('creates a repository with flows/, the schema, the config, the workflow and the pre-commit config', async () => {
    const cwd = tempDir();
    const r = await run(cwd, 'init', 'team-flows');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^created\s+team-flows\/\.git$/m);
    expect(r.stdout).toMatch(/^created\s+team-flows\/flows$/m);
    for (const f of FILES) expect(r.stdout).toMatch(new RegExp(`^created\\s+team-flows/${f.replace(/\./g, '\\.')}$`, 'm'));
    const dir = join(cwd, 'team-flows');
    expect(existsSync(join(dir, '.git'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'schemas/flow.schema.json'), 'utf8'))).toEqual(flowSchema.json);
    expect(JSON.parse(readFileSync(join(dir, 'flowreg.config.json'), 'utf8'))).toEqual({ flowsDir: 'flows' });
    expect(readFileSync(join(dir, '.github/workflows/flows.yml'), 'utf8')).toMatch(/uses: flowreg\/flowreg@v\d/);
    // what it made validates (an empty flows/) and serves' config accepts
    expect((await run(dir, 'validate')).code).toBe(0);
  });

  it('adopts an existing repository, is idempotent, keeps a file of the user that differs, and --force replaces it', async () => {
    const dir = tempRepo({ 'flowreg.config.json': '{"port": 8080}\n', 'README.md': 'ours\n' });
    const first = await run(dir, 'init');
    expect(first.stdout).toMatch(/^adopted\s+\.git$/m);
    expect(first.stdout).toMatch(/^kept\s+flowreg\.config\.json$/m);
    expect(first.stderr).toContain('flowreg.config.json exists and differs from what init writes; kept (--force replaces it)');
    expect(readFileSync(join(dir, 'flowreg.config.json'), 'utf8')).toBe('{"port": 8080}\n');
    const again = await run(dir, 'init');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/^(created|replaced)/m);
    expect(again.stdout).toMatch(/^unchanged\s+\.pre-commit-config\.yaml$/m);
    writeFileSync(join(dir, '.pre-commit-config.yaml'), 'repos: []\n');
    const forced = await run(dir, 'init', '--force');
    expect(forced.stdout).toMatch(/^replaced\s+flowreg\.config\.json$/m);
    expect(forced.stdout).toMatch(/^replaced\s+\.pre-commit-config\.yaml$/m);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('ours\n');
    expect(git(dir, ['log', '--format=%s'])).toBe('initial'); // init commits nothing
  });

  it('refuses a folder inside another repository, and a flows folder outside the repository', async () => {
    const repo = tempRepo({ 'a.txt': 'a\n' });
    const r = await run(repo, 'init', 'sub');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is inside the git repository');
    expect((await run(tempDir(), 'init', '--flows-dir', '../x')).code).toBe(2);
  });
});

/**
 * flowreg's hook for the pre-commit framework (.pre-commit-hooks.yaml, `language: node`), run by
 * the real `pre-commit` from PyPI (pinned, test/helpers/preCommit.ts) in a flows repository made by
 * `flowreg init`: pre-commit installs flowreg from a snapshot of this checkout (as it would from
 * GitHub at a tag), then a commit with a broken flow is blocked with the finding, and a commit
 * with a good one passes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensurePreCommit, snapshotRepo } from '../helpers/preCommit.ts';
import { git, GIT_ENV, tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/flowreg.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the pre-commit framework hook (.pre-commit-hooks.yaml), with the real pre-commit', () => {
  let python: string;
  let hookRepo: string;
  let preCommitHome: string;
  /** GIT_ENV (fixed identity, no global config), with npm's real cache and pre-commit's home. */
  let env: Record<string, string>;

  beforeAll(() => {
    python = ensurePreCommit();
    env = { ...GIT_ENV, npm_config_cache: join(homedir(), '.npm'), npm_config_audit: 'false', npm_config_fund: 'false' };
    hookRepo = snapshotRepo(ROOT, join(tempDir(), 'flowreg'), `v${VERSION}`, env);
    preCommitHome = tempDir('flowreg-pre-commit-home-');
    env.PRE_COMMIT_HOME = preCommitHome;
  }, 120_000);

  it('declares one node hook that runs flowreg precommit on the staged content', () => {
    const hooks = parse(readFileSync(join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Record<string, unknown>[];
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ id: 'flowreg', language: 'node', entry: 'flowreg precommit', pass_filenames: false });
  });

  it('blocks a commit of a broken flow and passes a good one', () => {
    const repo = join(tempDir(), 'team-flows');
    const init = spawnSync(process.execPath, [BIN, 'init', repo, '--hook-repo', hookRepo], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);
    const config = parse(readFileSync(join(repo, '.pre-commit-config.yaml'), 'utf8')) as { repos: { repo: string; rev: string; hooks: { id: string }[] }[] };
    expect(config.repos[0]).toMatchObject({ repo: hookRepo, rev: `v${VERSION}`, hooks: [{ id: 'flowreg' }] });

    const pc = (...args: string[]) => spawnSync(python, ['-m', 'pre_commit', ...args], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 540_000 });
    const installed = pc('install');
    expect(installed.status, installed.stderr + installed.stdout).toBe(0);
    // installs the hook's environment: npm installs flowreg from the snapshot repository (builds it)
    const envs = pc('install-hooks');
    expect(envs.status, envs.stderr + envs.stdout).toBe(0);

    git(repo, ['add', '-A']);
    const first = spawnSync('git', ['commit', '-q', '-m', 'flowreg init'], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(first.status, first.stdout + first.stderr).toBe(0);

    copyFileSync(join(ROOT, 'test/fixtures/invalid/edge-target-missing.yaml'), join(repo, 'flows/edge-target-missing.yaml'));
    git(repo, ['add', 'flows']);
    const blocked = spawnSync('git', ['commit', '-m', 'a broken flow'], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(blocked.status).not.toBe(0);
    const out = blocked.stdout + blocked.stderr;
    expect(out).toMatch(/flowreg \(validate flow files\)\.+Failed/);
    expect(out).toContain('flows/edge-target-missing.yaml:135:15 error EDGE_TARGET_MISSING');
    expect(git(repo, ['log', '--format=%s'])).toBe('flowreg init');

    git(repo, ['rm', '-q', '--cached', 'flows/edge-target-missing.yaml']);
    copyFileSync(join(ROOT, 'test/fixtures/valid/minimal-operator.yaml'), join(repo, 'flows/minimal-operator.yaml'));
    expect(spawnSync(process.execPath, [BIN, 'fmt', 'flows/minimal-operator.yaml'], { cwd: repo }).status).toBe(0);
    git(repo, ['add', 'flows/minimal-operator.yaml']);
    const passed = spawnSync('git', ['commit', '-m', 'a good flow'], { cwd: repo, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(passed.status, passed.stdout + passed.stderr).toBe(0);
    expect(passed.stdout + passed.stderr).toMatch(/flowreg \(validate flow files\)\.+Passed/);
    expect(git(repo, ['log', '--format=%s'])).toBe('a good flow\nflowreg init');
  }, 600_000);
});

/**
 * The reusable action (action.yml at the repository root), its steps run as a GitHub runner runs
 * them (test/helpers/actionRunner.ts) in a temporary flows repository made by `flowreg init`, with
 * GitHub's environment variables set: annotations for a broken flow, SARIF handed to code
 * scanning, the semantic diff posted as one pull request comment and updated in place on the next
 * push, nothing posted or uploaded for a fork, and the job's conclusion following validation.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DIFF_MARKER } from '../../src/core/diffMarkdown.ts';
import { fakeGithubComments, runAction, type ActionRun, type PrComment, type UsesHandler } from '../helpers/actionRunner.ts';
import { git, GIT_ENV, tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/flowreg.js');

type Comment = PrComment;

/** The stand-ins for the actions action.yml uses; they record what they were given. */
function standIns(comments: Comment[], uploads: unknown[]): Record<string, UsesHandler> {
  return {
    'actions/setup-node': (_s, w) => {
      expect(w['node-version']).toBe('20');
    },
    'github/codeql-action/upload-sarif': (_s, w, job) => {
      expect(w.category).toBe('flowreg');
      uploads.push(JSON.parse(readFileSync(join(job.workspace, w.sarif_file as string), 'utf8')));
    },
    'actions/github-script': async (_s, w, job) => {
      expect(w['github-token']).toBe('ghs_test_token');
      const pr = (job.event.pull_request ?? {}) as { number?: number };
      const github = fakeGithubComments(comments, pr.number, (seen) => expect(seen).toBe(pr.number));
      const [owner, repo] = String(job.github.repository).split('/');
      const context = { repo: { owner, repo }, issue: { number: pr.number } };
      const core = { info: (_: string) => undefined };
      // github-script runs in the job's working directory, the workspace
      const requireInWorkspace = (m: string): unknown =>
        m === 'node:fs' || m === 'fs' ? { readFileSync: (p: string, enc: BufferEncoding) => readFileSync(join(job.workspace, p), enc) } : createRequire(import.meta.url)(m);
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
      await new AsyncFunction('require', 'github', 'context', 'core', w.script as string)(requireInWorkspace, github, context, core);
    },
  };
}

/** A flows repository made by `flowreg init`, with one valid flow on main, pushed to a bare origin. */
function flowsRepo(): { repo: string; base: string } {
  const repo = join(tempDir(), 'team-flows');
  const init = spawnSync(process.execPath, [BIN, 'init', repo], { env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  expect(init.status, init.stderr).toBe(0);
  git(repo, ['checkout', '-q', '-b', 'main']);
  copyFileSync(join(ROOT, 'test/fixtures/valid/minimal-operator.yaml'), join(repo, 'flows/minimal-operator.yaml'));
  expect(spawnSync(process.execPath, [BIN, 'fmt', 'flows'], { cwd: repo }).status).toBe(0);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'a flow']);
  const origin = join(tempDir(), 'origin.git');
  git(origin.replace(/origin\.git$/, ''), ['init', '-q', '--bare', origin]);
  git(repo, ['remote', 'add', 'origin', origin]);
  git(repo, ['push', '-q', 'origin', 'main']);
  git(repo, ['fetch', '-q', 'origin']);
  return { repo, base: git(repo, ['rev-parse', 'HEAD']) };
}

async function run(repo: string, eventName: 'push' | 'pull_request', headRepo: string, comments: Comment[], uploads: unknown[]): Promise<ActionRun> {
  const pr = { number: 7, head: { repo: { full_name: headRepo }, ref: 'change' }, base: { ref: 'main' } };
  return runAction({
    actionPath: ROOT,
    workspace: repo,
    eventName,
    event: eventName === 'pull_request' ? { pull_request: pr } : { ref: 'refs/heads/main' },
    github: {
      repository: 'team/flows',
      ref: eventName === 'pull_request' ? 'refs/pull/7/merge' : 'refs/heads/main',
      sha: git(repo, ['rev-parse', 'HEAD']),
      ...(eventName === 'pull_request' ? { base_ref: 'main', head_ref: 'change' } : {}),
    },
    uses: standIns(comments, uploads),
    env: GIT_ENV,
    tmp: tempDir('flowreg-runner-'),
  });
}

describe('action.yml, run as GitHub runs a composite action', () => {
  it('is a composite action whose run steps all use bash, and init’s workflow uses it', () => {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { using: string; steps: { run?: string; shell?: string }[] } };
    expect(action.runs.using).toBe('composite');
    for (const s of action.runs.steps) if (s.run !== undefined) expect(s.shell).toBe('bash');
    const { repo } = flowsRepo();
    const wf = parse(readFileSync(join(repo, '.github/workflows/flows.yml'), 'utf8')) as { jobs: { flows: { steps: { uses?: string; with?: Record<string, unknown> }[] } } };
    const uses = wf.jobs.flows.steps.map((s) => s.uses);
    expect(uses[0]).toBe('actions/checkout@v4');
    expect(uses[1]).toMatch(/^[\w-]+\/flowreg@v\d+\.\d+\.\d+$/);
    expect(wf.jobs.flows.steps[1]?.with).toEqual({ 'flows-dir': 'flows' });
  });

  it('a pull request with a broken flow: annotations, SARIF, the diff comment, and a failed job; the fix updates the comment in place', async () => {
    const { repo } = flowsRepo();
    git(repo, ['checkout', '-q', '-b', 'change']);
    // change the valid flow's label and add a broken flow
    const valid = join(repo, 'flows/minimal-operator.yaml');
    const text = readFileSync(valid, 'utf8');
    require_(text.includes('label: Minimal operator\n'));
    writeFileSync(valid, text.replace('label: Minimal operator\n', 'label: Minimal operator, relabelled\n'));
    copyFileSync(join(ROOT, 'test/fixtures/invalid/edge-target-missing.yaml'), join(repo, 'flows/edge-target-missing.yaml'));
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'change']);

    const comments: Comment[] = [{ id: 1, body: `a person quoting ${DIFF_MARKER}`, user: { login: 'someone' }, html_url: 'c/1' }];
    const uploads: unknown[] = [];
    const first = await run(repo, 'pull_request', 'team/flows', comments, uploads);
    expect(first.step('Install flowreg').outcome).toBe('success');
    const validate = first.step('validate');
    expect(validate.outcome).toBe('success'); // findings do not stop the other steps
    expect(validate.outputs['exit-code']).toBe('1');
    expect(first.outputs['validate-exit-code']).toBe('1');
    expect(validate.log).toMatch(/^::error file=flows\/edge-target-missing\.yaml,line=135,col=15,title=EDGE_TARGET_MISSING::/m);
    expect(first.step('sarif').outcome).toBe('success');
    expect(uploads).toHaveLength(1);
    const sarif = uploads[0] as { version: string; runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]?.results.map((r) => [r.ruleId, r.locations[0]?.physicalLocation.artifactLocation.uri])).toContainEqual(['EDGE_TARGET_MISSING', 'flows/edge-target-missing.yaml']);
    expect(first.step('diff').outcome).toBe('success');
    expect(first.summary).toContain(DIFF_MARKER);
    expect(first.step('Post or update the flow diff comment').outcome).toBe('success');
    expect(comments).toHaveLength(2);
    expect(comments[1]?.user.login).toBe('github-actions[bot]');
    expect(comments[1]?.body.startsWith(DIFF_MARKER)).toBe(true);
    expect(comments[1]?.body).toContain('minimal-operator');
    expect(comments[1]?.body).toContain('relabelled');
    expect(first.step('Fail on validation errors').outcome).toBe('failure');
    expect(first.conclusion).toBe('failure');

    // the next push fixes it: the same comment is updated, the job passes
    rmSync(join(repo, 'flows/edge-target-missing.yaml'));
    git(repo, ['commit', '-q', '-am', 'fix']);
    const second = await run(repo, 'pull_request', 'team/flows', comments, uploads);
    expect(second.step('validate').outputs['exit-code']).toBe('0');
    expect(comments).toHaveLength(2);
    expect(comments[0]?.body).toBe(`a person quoting ${DIFF_MARKER}`);
    expect(comments[1]?.body).not.toContain('edge-target-missing');
    expect(comments[1]?.body).toContain('relabelled');
    expect(second.conclusion).toBe('success');
  });

  it('a pull request from a fork: annotations, but no SARIF upload and no comment', async () => {
    const { repo } = flowsRepo();
    git(repo, ['checkout', '-q', '-b', 'change']);
    copyFileSync(join(ROOT, 'test/fixtures/invalid/edge-target-missing.yaml'), join(repo, 'flows/edge-target-missing.yaml'));
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'from a fork']);
    const comments: Comment[] = [];
    const uploads: unknown[] = [];
    const r = await run(repo, 'pull_request', 'someone/flows', comments, uploads);
    expect(r.step('validate').log).toContain('::error file=flows/edge-target-missing.yaml');
    expect(r.step('Upload SARIF to code scanning').outcome).toBe('skipped');
    expect(r.step('Post or update the flow diff comment').outcome).toBe('skipped');
    expect(uploads).toEqual([]);
    expect(comments).toEqual([]);
    expect(r.conclusion).toBe('failure');
  });

  it('a push: validation and SARIF, no diff', async () => {
    const { repo } = flowsRepo();
    const comments: Comment[] = [];
    const uploads: unknown[] = [];
    const r = await run(repo, 'push', 'team/flows', comments, uploads);
    expect(r.step('validate').outputs['exit-code']).toBe('0');
    expect(uploads).toHaveLength(1);
    expect(r.step('diff').outcome).toBe('skipped');
    expect(r.conclusion).toBe('success');
  });
});

function require_(cond: boolean): void {
  if (!cond) throw new Error('fixture changed: test/fixtures/valid/minimal-operator.yaml');
}

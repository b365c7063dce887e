import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DIFF_MARKER } from '../../src/core/diffMarkdown.ts';
import { fakeGithubComments, type PrComment } from '../helpers/actionRunner.ts';
import { tempDir } from '../helpers/tmp.ts';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

const workflow = parse(readFileSync(resolve(import.meta.dirname, '../../.github/workflows/flows.yml'), 'utf8')) as {
  on: Record<string, { paths: string[] }>;
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Step[] }>;
};
const steps = Object.values(workflow.jobs)[0]?.steps ?? [];

type Comment = PrComment;

/** Runs the workflow's comment script against an in-memory pull request's comments. */
async function postComment(script: string, cwd: string, comments: Comment[]): Promise<void> {
  const github = fakeGithubComments(comments, 7, (seen) => expect(seen).toBe(7));
  const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
  const core = { info: (_: string) => undefined };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  // The script reads flow-diff.md from the job's working directory: here, from `cwd`.
  const requireInCwd = (m: string): unknown =>
    m === 'node:fs' || m === 'fs' ? { readFileSync: (p: string, enc: BufferEncoding) => readFileSync(join(cwd, p), enc) } : createRequire(import.meta.url)(m);
  await new AsyncFunction('require', 'github', 'context', 'core', script)(requireInCwd, github, context, core);
}

describe('.github/workflows/flows.yml', () => {
  it('runs on pushes and pull requests touching flows or schemas, with minimal permissions', () => {
    expect(workflow.on['push']?.paths).toEqual(expect.arrayContaining(['flows/**', 'schemas/**']));
    expect(workflow.on['pull_request']?.paths).toEqual(expect.arrayContaining(['flows/**', 'schemas/**']));
    expect(workflow.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', 'security-events': 'write' });
  });

  it('checks out full history, installs, validates (github, sarif), uploads SARIF and diffs', () => {
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with?.['fetch-depth']).toBe(0);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(20);
    const runs = steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npx flowreg validate flows/ --format github');
    expect(runs).toContain('npx flowreg validate flows/ --format sarif > flowreg.sarif');
    expect(runs).toContain('npx flowreg diff "origin/${BASE_REF}..HEAD" --format markdown -o flow-diff.md');
    expect(steps.find((s) => s.run?.includes('flowreg diff'))?.env).toEqual({ BASE_REF: '${{ github.base_ref }}' });
    expect(steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))?.with?.['sarif_file']).toBe('flowreg.sarif');
  });

  it('posts one comment and then updates it in place, found by the hidden marker', async () => {
    const step = steps.find((s) => s.uses?.startsWith('actions/github-script@'));
    const script = step?.with?.['script'] as string;
    expect(script).toContain(`'${DIFF_MARKER}'`);
    const dir = tempDir();
    const comments: Comment[] = [{ id: 1, body: `a person quoting ${DIFF_MARKER}`, user: { login: 'someone' }, html_url: 'c/1' }];
    writeFileSync(join(dir, 'flow-diff.md'), `${DIFF_MARKER}\nfirst push\n`);
    await postComment(script, dir, comments);
    writeFileSync(join(dir, 'flow-diff.md'), `${DIFF_MARKER}\nsecond push\n`);
    await postComment(script, dir, comments);
    expect(comments.map((c) => [c.id, c.user.login, c.body])).toEqual([
      [1, 'someone', `a person quoting ${DIFF_MARKER}`],
      [2, 'github-actions[bot]', `${DIFF_MARKER}\nsecond push\n`],
    ]);
    // A pull request without flow changes gets no new comment.
    const none: Comment[] = [];
    writeFileSync(join(dir, 'flow-diff.md'), `${DIFF_MARKER}\n## flowreg: flow changes\n\nNo flow changes (\`main\` → \`HEAD\`).\n`);
    await postComment(script, dir, none);
    expect(none).toEqual([]);
  });
});

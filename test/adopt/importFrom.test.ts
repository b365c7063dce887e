/**
 * `flowreg import --from URL` against a real DB-GPT 0.8.2 (test/helpers/dbgpt/): every flow of the
 * server becomes a flow file and one commit, with its uid, name and `gmt_created` as the author
 * date; a flow flowreg's validator refuses is reported with its findings, never dropped silently;
 * a second run imports only what changed (a changed flow: one commit dated `gmt_modified`);
 * `--single-commit` makes one commit for all.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeDbgpt, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody } from '../helpers/dbgpt/requests.ts';
import { startStubLlm, type StubLlm } from '../helpers/stubLlm.ts';
import { git, GIT_ENV, tempDir } from '../helpers/tmp.ts';

const BIN = resolve(import.meta.dirname, '../../bin/flowreg.js');
const FLOWS = '/api/v2/serve/awel/flows';

function flowreg(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `git log` of the flows folder, oldest first: author date (as stored, local time), subject, files. */
function history(repo: string): { date: string; subject: string; files: string[] }[] {
  const out = git(repo, ['log', '--reverse', '--date=format-local:%Y-%m-%d %H:%M:%S', '--format=%x00%ad%x01%s', '--name-only', '--', 'flows']);
  return out
    .split('\0')
    .filter((c) => c.trim() !== '')
    .map((c) => {
      const [head = '', ...rest] = c.split('\n');
      const [date = '', subject = ''] = head.split('\x01');
      return { date, subject, files: rest.filter((l) => l.trim() !== '') };
    });
}

describeDbgpt('flowreg import --from a real DB-GPT', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  const run = randomUUID().slice(0, 8);
  const uidA = `adopt-a-${run}`;
  const uidB = `adopt-b-${run}`;
  const uidBad = `adopt-bad-${run}`;
  const uidSpace = `adopt-space-${run}`;
  const created = new Map<string, Record<string, unknown>>();

  const get = async (uid: string): Promise<Record<string, unknown>> => {
    const r = await call(db.url, 'GET', `${FLOWS}/${uid}`);
    return (r.json as { data: Record<string, unknown> }).data;
  };

  beforeAll(async () => {
    llm = await startStubLlm();
    db = await startDbgpt({ llmUrl: llm.url });
    const bodies = [
      simpleChatBody(uidA, `adopt_chat_a_${run}`),
      simpleChatBody(uidB, `adopt_chat_b_${run}`, { state: 'developing', description: 'first' }),
      // DB-GPT stores a secret variable with a literal value; flowreg refuses it (SECRET_LITERAL)
      simpleChatBody(uidBad, `adopt_secret_${run}`, {
        state: 'developing',
        variables: [{ key: 'dbgpt.model.openai.api_key', label: 'key', category: 'secret', scope: 'global', value: 'sk-literal-value' }],
      }),
      // a name flowreg cannot make a file of
      simpleChatBody(uidSpace, `adopt space ${run}`, { state: 'developing' }),
    ];
    for (const body of bodies) {
      const r = await call(db.url, 'POST', FLOWS, { body });
      expect(r.status, r.text).toBe(200);
      expect((r.json as { success: boolean }).success, r.text).toBe(true);
      // gmt_created has one-second resolution: keep the flows' times apart
      await new Promise((r) => setTimeout(r, 1100));
    }
    for (const uid of [uidA, uidB, uidBad, uidSpace]) created.set(uid, await get(uid));
  }, 300_000);

  afterAll(async () => {
    await db?.stop();
    await llm?.close();
  }, 60_000);

  it('commits each valid flow with its uid, name and gmt_created as the author date; refuses the others with why', async () => {
    const repo = join(tempDir(), 'flows-repo');
    expect(flowreg(tempDir(), 'init', repo).code).toBe(0);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'flowreg init']);

    const r = flowreg(repo, 'import', '--from', db.url);
    expect(r.code, r.stderr).toBe(1); // two refused
    // the refused flows are named, with the finding or the reason
    expect(r.stderr).toContain(`refused flow ${uidBad}`);
    expect(r.stderr).toContain('SECRET_LITERAL');
    expect(r.stderr).not.toContain('sk-literal-value'); // the secret's value is not echoed
    expect(r.stderr).toContain(`refused flow ${uidSpace}`);
    expect(r.stderr).toMatch(/does not match/);
    expect(r.stdout).toMatch(/4 flow\(s\) in DB-GPT .*: 2 imported, 0 updated, 0 unchanged, 2 refused/);

    const a = created.get(uidA)!;
    const b = created.get(uidB)!;
    const fileA = `flows/adopt_chat_a_${run}.yaml`;
    const fileB = `flows/adopt_chat_b_${run}.yaml`;
    const h = history(repo).filter((c) => c.subject !== 'flowreg init');
    expect(h).toEqual([
      { date: a.gmt_created, subject: `import flow adopt_chat_a_${run} (${uidA}) from DB-GPT ${db.url}`, files: [fileA] },
      { date: b.gmt_created, subject: `import flow adopt_chat_b_${run} (${uidB}) from DB-GPT ${db.url}`, files: [fileB] },
    ]);
    const va = parse(readFileSync(join(repo, fileA), 'utf8')) as Record<string, unknown>;
    expect(va).toMatchObject({ uid: uidA, name: `adopt_chat_a_${run}`, label: a.label });
    expect(va.gmt_created).toBeUndefined(); // derived from git, not stored
    expect(readFileSync(join(repo, fileA), 'utf8').startsWith('# yaml-language-server: $schema=../schemas/flow.schema.json\n')).toBe(true);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    // what was imported is valid and canonical
    expect(flowreg(repo, 'validate').code).toBe(0);
    expect(flowreg(repo, 'fmt', 'flows', '--check').code).toBe(0);

    // a second run imports nothing: nothing changed
    const again = flowreg(repo, 'import', '--from', db.url);
    expect(again.stdout).toMatch(/: 0 imported, 0 updated, 2 unchanged, 2 refused/);
    expect(history(repo).filter((c) => c.subject !== 'flowreg init')).toHaveLength(2);

    // a flow changed in DB-GPT: one commit, dated its gmt_modified
    const upd = await call(db.url, 'PUT', `${FLOWS}/${uidB}`, { body: { ...simpleChatBody(uidB, `adopt_chat_b_${run}`, { state: 'developing' }), description: 'second' } });
    expect((upd.json as { success: boolean }).success, upd.text).toBe(true);
    const b2 = await get(uidB);
    const third = flowreg(repo, 'import', '--from', db.url);
    expect(third.stdout).toMatch(/: 0 imported, 1 updated, 1 unchanged, 2 refused/);
    const h3 = history(repo).filter((c) => c.subject !== 'flowreg init');
    expect(h3).toHaveLength(3);
    expect(h3[2]).toEqual({ date: b2.gmt_modified, subject: `update flow adopt_chat_b_${run} (${uidB}) from DB-GPT ${db.url}`, files: [fileB] });
    expect((parse(readFileSync(join(repo, fileB), 'utf8')) as { description: string }).description).toBe('second');
  });

  it('--single-commit makes one commit for every imported flow', () => {
    const repo = join(tempDir(), 'one-commit');
    expect(flowreg(tempDir(), 'init', repo).code).toBe(0);
    const r = flowreg(repo, 'import', '--from', db.url, '--single-commit');
    expect(r.code).toBe(1);
    const h = history(repo);
    expect(h).toHaveLength(1);
    expect(h[0]?.subject).toBe(`import 2 flow(s) from DB-GPT ${db.url} (2 new, 0 changed)`);
    expect(h[0]?.files.sort()).toEqual([`flows/adopt_chat_a_${run}.yaml`, `flows/adopt_chat_b_${run}.yaml`]);
  });

  it('an unreachable DB-GPT is an error that says so, and writes nothing', () => {
    const repo = join(tempDir(), 'down');
    expect(flowreg(tempDir(), 'init', repo).code).toBe(0);
    const r = flowreg(repo, 'import', '--from', 'http://127.0.0.1:9');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unreachable/);
    expect(existsSync(join(repo, 'flows'))).toBe(true);
    expect(() => git(repo, ['rev-parse', '--verify', '-q', 'HEAD'])).toThrow();
  });
});

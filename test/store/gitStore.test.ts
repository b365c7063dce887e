import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lockIdentity } from '../../src/store/repoLock.ts';
import { describe, expect, it } from 'vitest';
import { code } from '../helpers/errors.ts';
import { GitStore, type WriteOp } from '../../src/store/GitStore.ts';
import { checkFlowName, flowPath } from '../../src/store/safePath.ts';
import { checkPreconditions } from '../../src/core/flowFromBody.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { smallFlow } from '../helpers/flows.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { schemaRefFor } from '../../src/core/schemaRef.ts';
import { git, tempDir, tempRepo, writeFiles } from '../helpers/tmp.ts';

const alice = { name: 'Alice', email: 'alice@example.com' };
let clock = Date.parse('2026-03-01T10:00:00Z');
const now = (): number => (clock += 1000);

async function open(dir: string): Promise<GitStore> {
  return GitStore.open({ dir, now, committer: { name: 'flowreg', email: 'flowreg@example.com' } });
}

function create(file: FlowFile): WriteOp {
  return { verb: 'create', uid: file.uid, author: alice, apply: () => file };
}

function update(uid: string, change: (f: FlowFile) => FlowFile, readAt?: string): WriteOp {
  return {
    verb: 'update',
    uid,
    author: alice,
    apply: (cur) => {
      // the one optimistic-lock check, run inside the store's lock as the service runs it
      if (readAt !== undefined) checkPreconditions(uid, cur?.version ?? '', { bodyVersion: readAt });
      return change(structuredClone(cur?.file as FlowFile));
    },
  };
}

describe('GitStore writes', () => {
  it('makes one commit per write with message, trailer, author, committer and parent', async () => {
    const dir = tempRepo({ 'README.md': 'flows\n' });
    const base = git(dir, ['rev-parse', 'HEAD']);
    const store = await open(dir);
    const res = await store.write(create(smallFlow('u-1', 'chat')));
    expect(res.path).toBe('flows/chat.yaml');
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(res.commit);
    expect(git(dir, ['log', '-1', '--format=%P|%an|%ae|%cn|%ce|%B'])).toBe(`${base}|Alice|alice@example.com|flowreg|flowreg@example.com|create flow chat (u-1)\n\nFlow-Uid: u-1`);
    expect(git(dir, ['show', '--name-status', '--format=', 'HEAD'])).toBe('A\tflows/chat.yaml');
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
    const text = readFileSync(join(dir, 'flows/chat.yaml'), 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=../schemas/flow.schema.json\nuid: u-1\nname: chat\n')).toBe(true);
    await store.close();
  });

  it('makes no commit when the content does not change', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const first = await store.write(create(smallFlow('u-1', 'chat')));
    const again = await store.write(update('u-1', (f) => f));
    expect(again.commit).toBeNull();
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(first.commit);
  });

  it('serves version and times equal to what native git log says, across updates and a rename', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const c1 = await store.write(create(smallFlow('u-1', 'chat')));
    await store.write(create(smallFlow('u-2', 'other')));
    const c3 = await store.write(update('u-1', (f) => ({ ...f, description: 'changed' })));
    const c4 = await store.write(update('u-1', (f) => ({ ...f, name: 'chat_v2' })));
    expect(c4.path).toBe('flows/chat_v2.yaml');
    expect(existsSync(join(dir, 'flows/chat.yaml'))).toBe(false);
    expect(git(dir, ['show', '--name-status', '--format=', '--no-renames', 'HEAD']).split('\n').sort()).toEqual(['A\tflows/chat_v2.yaml', 'D\tflows/chat.yaml']);
    const rec = store.file('flows/chat_v2.yaml');
    expect(rec?.blob).toBe(git(dir, ['rev-parse', 'HEAD:flows/chat_v2.yaml']));
    const v = store.versionOf('u-1', 'flows/chat_v2.yaml');
    expect(v.version).toBe(git(dir, ['log', '-1', '--format=%H', '--', 'flows/chat_v2.yaml']));
    expect(v.modified).toBe(Number(git(dir, ['log', '-1', '--format=%ct', '--', 'flows/chat_v2.yaml'])));
    // gmt_created follows the rename back to the first commit
    const followed = git(dir, ['log', '--follow', '--format=%H %ct', '--', 'flows/chat_v2.yaml']).split('\n');
    expect(followed.map((l) => l.split(' ')[0])).toEqual([c4.commit, c3.commit, c1.commit]);
    expect(v.created).toBe(Number(followed[followed.length - 1]?.split(' ')[1]));
    expect(v.commits).toBe(3);
    expect(store.versions('u-1').map((x) => x.version)).toEqual([c4.commit, c3.commit, c1.commit]);
    expect(store.versions('u-1')[0]?.message).toBe('update flow chat_v2 (u-1)');
    expect(store.versionOf('u-2', 'flows/other.yaml').commits).toBe(1);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('deletes, reads an old version and reverts to it as a new commit', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const c1 = await store.write(create(smallFlow('u-1', 'chat')));
    await store.write(update('u-1', (f) => ({ ...f, label: 'Second label' })));
    const at1 = await store.readAt('u-1', c1.commit as string);
    expect(at1?.file.label).toBe('chat');
    expect(at1?.path).toBe('flows/chat.yaml');
    const rev = await store.write({ verb: 'revert', uid: 'u-1', author: alice, apply: () => at1?.file ?? null });
    expect(readFileSync(join(dir, 'flows/chat.yaml'), 'utf8')).toBe(git(dir, ['show', `${c1.commit}:flows/chat.yaml`]) + '\n');
    expect(git(dir, ['log', '-1', '--format=%s'])).toBe('revert flow chat (u-1)');
    expect(store.versions('u-1')[0]?.version).toBe(rev.commit);
    const del = await store.write({ verb: 'delete', uid: 'u-1', author: alice, apply: () => null });
    expect(existsSync(join(dir, 'flows/chat.yaml'))).toBe(false);
    expect(git(dir, ['show', '--name-status', '--format=', 'HEAD'])).toBe('D\tflows/chat.yaml');
    expect(store.filesOf('u-1')).toEqual([]);
    expect(await store.readAt('u-1', del.commit as string)).toBeNull();
    expect(await code(store.write({ verb: 'delete', uid: 'u-1', author: alice, apply: () => null }))).toBe('FLOW_NOT_FOUND');
    expect(await code(store.readAt('u-1', '0'.repeat(40)))).toBe('VERSION_NOT_FOUND');
  });

  it('keeps reading and writing while native git gc packs, repacks and prunes under it', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const first = await store.write(create(smallFlow('u-1', 'chat')));
    for (let i = 0; i < 5; i++) await store.write(update('u-1', (f) => ({ ...f, label: `label ${i}` })));
    // loose objects move into a pack and are pruned; then that pack is replaced by another
    for (const args of [['gc', '-q', '--prune=now'], ['repack', '-q', '-a', '-d', '-f'], ['gc', '-q', '--aggressive', '--prune=now']]) {
      git(dir, args);
      expect((await store.readAt('u-1', first.commit as string))?.file.label).toBe('chat');
      const res = await store.write(update('u-1', (f) => ({ ...f, label: `after ${args[0]} ${args[2]}` })));
      expect(git(dir, ['log', '-1', '--format=%H'])).toBe(res.commit);
      expect(store.versions('u-1')).toHaveLength(Number(git(dir, ['rev-list', '--count', 'HEAD'])));
      expect(git(dir, ['status', '--porcelain'])).toBe('');
    }
    expect(git(dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
    // and a fresh open over the repacked repository agrees
    await store.close();
    const again = await open(dir);
    expect(again.versions('u-1').map((v) => v.version)).toEqual(store.versions('u-1').map((v) => v.version));
  });

  it('refuses a write based on an old version, but not because another flow changed', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const a1 = await store.write(create(smallFlow('u-a', 'a')));
    const b1 = await store.write(create(smallFlow('u-b', 'b')));
    await store.write(update('u-b', (f) => ({ ...f, label: 'b2' }), b1.commit as string));
    // a's version is still a1: another flow's commit is no conflict
    const a2 = await store.write(update('u-a', (f) => ({ ...f, label: 'a2' }), a1.commit as string));
    expect(a2.commit).not.toBeNull();
    const before = git(dir, ['rev-parse', 'HEAD']);
    expect(await code(store.write(update('u-a', (f) => ({ ...f, label: 'a3' }), a1.commit as string)))).toBe('VERSION_CONFLICT');
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(before);
    // a base version that is not a commit id (DB-GPT's "0.1.1") is ignored
    expect((await store.write(update('u-a', (f) => ({ ...f, label: 'a4' }), '0.1.1'))).commit).not.toBeNull();
  });

  it('refuses duplicate names and uids, unsafe names, and name case clashes', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    await store.write(create(smallFlow('u-1', 'chat')));
    expect(await code(store.write(create(smallFlow('u-2', 'chat'))))).toBe('NAME_TAKEN');
    expect(await code(store.write(create(smallFlow('u-2', 'CHAT'))))).toBe('NAME_TAKEN');
    // the validator refuses such names before they could become paths; the safe-path check stands behind it
    expect(await code(store.write(create(smallFlow('u-3', '../evil'))))).toBe('FLOW_INVALID');
    expect(await code(store.write(create(smallFlow('u-3', 'a/b'))))).toBe('FLOW_INVALID');
    expect(await code(Promise.resolve().then(() => flowPath('flows', '', '../evil')))).toBe('UNSAFE_PATH');
    expect(await code(Promise.resolve().then(() => flowPath('flows', '../..', 'x')))).toBe('UNSAFE_PATH');
    expect(await code(store.write(create(smallFlow('a\u0000b', 'x'))))).toBe('INVALID_INPUT');
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('refuses the device names Windows reserves, in any case: the validator first, the safe-path check behind it', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    for (const name of ['CON', 'nul', 'COM1', 'lpt9', 'AUX', 'PRN']) {
      expect(await code(store.write(create(smallFlow(`u-${name}`, name))))).toBe('FLOW_INVALID');
      expect(await code(Promise.resolve().then(() => checkFlowName(name)))).toBe('UNSAFE_PATH');
      expect(await code(Promise.resolve().then(() => flowPath('flows', 'team', name.toLowerCase())))).toBe('UNSAFE_PATH');
    }
    expect(() => checkFlowName('CON.txt')).toThrow(/may only hold/);
    expect(() => checkFlowName('lpt9')).toThrow('flow name "lpt9" is a device name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, in any case); its file could not be checked out on Windows');
    expect(checkFlowName('console')).toBe('console');
    expect(checkFlowName('com10')).toBe('com10');
    expect((await store.write(create(smallFlow('u-ok', 'CONSOLE')))).commit).not.toBeNull();
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect(git(dir, ['ls-files', 'flows'])).toBe('flows/CONSOLE.yaml');
  });

  it('lands 20 concurrent writes as 20 commits', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.write(create(smallFlow(`u-${i}`, `flow_${i}`)))));
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('20');
    expect(git(dir, ['ls-files', 'flows']).split('\n')).toHaveLength(20);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('refuses to write over local edits or during a merge', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    await store.write(create(smallFlow('u-1', 'chat')));
    const path = join(dir, 'flows/chat.yaml');
    const edited = readFileSync(path, 'utf8').replace('label: chat', 'label: edited by hand');
    writeFileSync(path, edited);
    expect(await code(store.write(update('u-1', (f) => ({ ...f, description: 'x' }))))).toBe('FILE_MODIFIED');
    expect(readFileSync(path, 'utf8')).toBe(edited);
    git(dir, ['checkout', '--', 'flows/chat.yaml']);
    writeFileSync(join(dir, '.git/MERGE_HEAD'), git(dir, ['rev-parse', 'HEAD']));
    expect(await code(store.write(update('u-1', (f) => ({ ...f, description: 'x' }))))).toBe('REPO_BUSY');
  });

  it('makes a native git commit during a flowreg write fail cleanly, losing nothing', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const store = await open(dir);
    // hold the write inside apply() while native git tries to commit
    let nativeError = '';
    await store.write({
      verb: 'create',
      uid: 'u-1',
      author: alice,
      apply: () => {
        writeFiles(dir, { 'README.md': 'changed\n' });
        try {
          git(dir, ['commit', '-qam', 'native']);
        } catch (err) {
          nativeError = String((err as { stderr?: string }).stderr ?? err);
        }
        return smallFlow('u-1', 'chat');
      },
    });
    expect(nativeError).toContain('index.lock');
    expect(git(dir, ['log', '--format=%s'])).toBe('create flow chat (u-1)\ninitial');
    // the native change is still in the working tree and commits fine afterwards
    git(dir, ['commit', '-qam', 'native']);
    expect(git(dir, ['log', '--format=%s']).split('\n')).toEqual(['native', 'create flow chat (u-1)', 'initial']);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });
});

describe('GitStore and a lock left by a dead flowreg process', () => {
  /** The pid of a process that has exited. */
  function deadPid(): number {
    const pid = spawnSync('true').pid as number;
    expect(() => process.kill(pid, 0)).toThrow();
    return pid;
  }

  it("never removes an index.lock another process took after the dead process's flowreg.lock: it waits and answers REPO_LOCKED", async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const store = await open(dir);
    await store.write(create(smallFlow('u-1', 'chat')));
    const head = git(dir, ['rev-parse', 'HEAD']);
    // a flowreg process died holding its lock (its own index.lock already gone), then native git took index.lock
    writeFileSync(join(dir, '.git/flowreg.lock'), JSON.stringify({ pid: deadPid(), start: '1', host: hostname(), indexLock: '1:2:3' }));
    writeFileSync(join(dir, '.git/index.lock'), 'native git is writing');
    const started = Date.now();
    expect(await code(store.write(update('u-1', (f) => ({ ...f, label: 'blocked' }))))).toBe('REPO_LOCKED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(readFileSync(join(dir, '.git/index.lock'), 'utf8')).toBe('native git is writing');
    expect(git(dir, ['rev-parse', 'HEAD'])).toBe(head);
    // a restart does not take it either
    await open(dir);
    expect(readFileSync(join(dir, '.git/index.lock'), 'utf8')).toBe('native git is writing');
    // once native git lets go, the next write recovers the dead lock and commits
    unlinkSync(join(dir, '.git/index.lock'));
    expect((await store.write(update('u-1', (f) => ({ ...f, label: 'after' })))).commit).not.toBeNull();
    expect(existsSync(join(dir, '.git/flowreg.lock'))).toBe(false);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('recovers the index.lock the dead process recorded as its own', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const store = await open(dir);
    await store.write(create(smallFlow('u-1', 'chat')));
    writeFileSync(join(dir, '.git/index.lock'), '');
    writeFileSync(join(dir, '.git/flowreg.lock'), JSON.stringify({ pid: deadPid(), start: '1', host: hostname(), indexLock: lockIdentity(join(dir, '.git/index.lock')) }));
    expect((await store.write(update('u-1', (f) => ({ ...f, label: 'after' })))).commit).not.toBeNull();
    expect(existsSync(join(dir, '.git/index.lock'))).toBe(false);
    expect(existsSync(join(dir, '.git/flowreg.lock'))).toBe(false);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });
});

describe('GitStore and symbolic links in the flows folder', () => {
  /** A valid flow in a file outside the repository (what a link could expose). */
  function outsideFlow(uid: string, name: string): string {
    const dir = tempDir('flowreg-outside-');
    writeFileSync(join(dir, `${name}.yaml`), formatFlow(smallFlow(uid, name, { description: 'SECRET outside content' }), { schemaRef: schemaRefFor(`flows/${name}.yaml`) }));
    return dir;
  }

  it('reports a linked flow file as load_failed, never serving or writing through its target', async () => {
    const outside = outsideFlow('u-out', 'evil');
    const dir = tempRepo({ 'README.md': 'x\n' });
    mkdirSync(join(dir, 'flows'));
    symlinkSync(join(outside, 'evil.yaml'), join(dir, 'flows/evil.yaml'));
    const store = await open(dir);
    expect(store.findFlow('u-out')).toBeUndefined();
    const entry = store.flow('file:flows/evil.yaml');
    expect(entry.blob).toBeNull();
    expect(entry.errors.map((f) => f.code)).toEqual(['NOT_REGULAR_FILE']);
    expect(entry.errors[0]?.message).toContain('flows/evil.yaml is a symbolic link; flowreg reads only regular files');
    expect(JSON.stringify(entry.summary)).not.toContain('SECRET');
    // the watcher's path hint takes the same road
    await store.refresh(['flows/evil.yaml']);
    expect(store.findFlow('u-out')).toBeUndefined();
    // a write to that name is refused, and the target is untouched
    const before = readFileSync(join(outside, 'evil.yaml'), 'utf8');
    expect(await code(store.write(create(smallFlow('u-out', 'evil'))))).toBe('UNSAFE_PATH');
    expect(await code(store.write(update('u-out', (f) => ({ ...f, label: 'through' }))))).toMatch(/UNSAFE_PATH|FLOW_NOT_FOUND/);
    expect(readFileSync(join(outside, 'evil.yaml'), 'utf8')).toBe(before);
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('1');
  });

  it('keeps serving the last valid content of a flow whose file became a link, and refuses writes to it', async () => {
    const dir = tempRepo({ 'README.md': 'x\n' });
    const store = await open(dir);
    await store.write(create(smallFlow('u-1', 'chat')));
    const outside = outsideFlow('u-1', 'chat');
    unlinkSync(join(dir, 'flows/chat.yaml'));
    symlinkSync(join(outside, 'chat.yaml'), join(dir, 'flows/chat.yaml'));
    await store.refresh(['flows/chat.yaml']);
    const served = [...store.flows()].find((f) => f.path === 'flows/chat.yaml');
    expect(served?.errors[0]?.message).toContain('is a symbolic link');
    expect(JSON.stringify(served?.summary)).not.toContain('SECRET');
    const before = readFileSync(join(outside, 'chat.yaml'), 'utf8');
    expect(await code(store.write(update('u-1', (f) => ({ ...f, label: 'through' }))))).toBe('UNSAFE_PATH');
    expect(readFileSync(join(outside, 'chat.yaml'), 'utf8')).toBe(before);
  });

  it('does not follow a linked folder inside the flows folder', async () => {
    const outside = outsideFlow('u-out', 'evil');
    const dir = tempRepo({ 'README.md': 'x\n' });
    mkdirSync(join(dir, 'flows'));
    symlinkSync(outside, join(dir, 'flows/linked'));
    const store = await open(dir);
    await store.refresh(['flows/linked/evil.yaml']);
    expect(store.findFlow('u-out')).toBeUndefined();
    expect(store.files()).toEqual([]);
  });
});

describe('GitStore reading', () => {
  it('marks uncommitted edits and new files, and follows commits made by hand', async () => {
    const dir = tempRepo();
    const store = await open(dir);
    const c1 = await store.write(create(smallFlow('u-1', 'chat')));
    const path = join(dir, 'flows/chat.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('label: chat', 'label: by hand'));
    await store.refresh();
    expect(store.versionOf('u-1', 'flows/chat.yaml').version).toBe(`${c1.commit}-dirty`);
    writeFiles(dir, { 'flows/new.yaml': readFileSync(path, 'utf8').replace('uid: u-1', 'uid: u-9').replace('name: chat', 'name: new') });
    await store.refresh();
    expect(store.versionOf('u-9', 'flows/new.yaml').version).toBe('uncommitted');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-qm', 'by hand'], { GIT_COMMITTER_DATE: '2026-05-05T05:05:05Z' });
    await store.refresh();
    const v = store.versionOf('u-1', 'flows/chat.yaml');
    expect(v.version).toBe(git(dir, ['rev-parse', 'HEAD']));
    expect(v.modified).toBe(Date.parse('2026-05-05T05:05:05Z') / 1000);
    expect(store.versionOf('u-9', 'flows/new.yaml').commits).toBe(1);
  });

  it('reopens with the persisted history and sees commits made while it was closed', async () => {
    const dir = tempRepo();
    let store = await open(dir);
    for (let i = 0; i < 5; i++) await store.write(create(smallFlow(`u-${i}`, `f${i}`)));
    await store.write(update('u-0', (f) => ({ ...f, label: 'edited' })));
    await store.close();
    expect(existsSync(join(dir, '.git/flowreg/history.json'))).toBe(true);
    // the parsed-flow cache keeps the five contents on disk, not the edited-away one
    expect(Object.keys((JSON.parse(readFileSync(join(dir, '.git/flowreg/flows.json'), 'utf8')) as { entries: object }).entries)).toHaveLength(5);
    git(dir, ['mv', 'flows/f1.yaml', 'flows/renamed.yaml']);
    git(dir, ['commit', '-qm', 'rename by hand']);
    store = await open(dir);
    expect(store.versions('u-1').map((v) => v.message)).toEqual(['rename by hand', 'create flow f1 (u-1)']);
    expect(store.versions('u-0').map((v) => v.message)).toEqual(['update flow f0 (u-0)', 'create flow f0 (u-0)']);
    expect(store.files().map((r) => r.path).sort()).toEqual(['flows/f0.yaml', 'flows/f2.yaml', 'flows/f3.yaml', 'flows/f4.yaml', 'flows/renamed.yaml']);
  });

  it('follows a flow renamed and edited by hand, and attributes merged changes as git log does', async () => {
    const dir = tempRepo();
    let store = await open(dir);
    const c1 = await store.write(create(smallFlow('u-1', 'one')));
    await store.write(create(smallFlow('u-2', 'two')));
    await store.close();
    // rename and edit in one commit: git sees a delete and an add; the uid ties them together
    git(dir, ['mv', 'flows/one.yaml', 'flows/uno.yaml']);
    writeFileSync(join(dir, 'flows/uno.yaml'), readFileSync(join(dir, 'flows/uno.yaml'), 'utf8').replace('name: one', 'name: uno').replace('label: one', 'label: uno'));
    git(dir, ['commit', '-qam', 'rename one to uno'], { GIT_COMMITTER_DATE: '2026-06-01T00:00:00Z' });
    const renamed = git(dir, ['rev-parse', 'HEAD']);
    // a change on a branch, merged with a merge commit
    git(dir, ['checkout', '-q', '-b', 'side']);
    writeFileSync(join(dir, 'flows/two.yaml'), readFileSync(join(dir, 'flows/two.yaml'), 'utf8').replace('label: two', 'label: two on side'));
    git(dir, ['commit', '-qam', 'side change'], { GIT_COMMITTER_DATE: '2026-06-02T00:00:00Z' });
    const side = git(dir, ['rev-parse', 'HEAD']);
    git(dir, ['checkout', '-q', 'main']);
    writeFileSync(join(dir, 'README.md'), 'main moves too\n');
    git(dir, ['add', 'README.md']);
    git(dir, ['commit', '-qm', 'main change'], { GIT_COMMITTER_DATE: '2026-06-03T00:00:00Z' });
    git(dir, ['merge', '-q', '--no-ff', '-m', 'merge side', 'side'], { GIT_COMMITTER_DATE: '2026-06-04T00:00:00Z' });
    rmSync(join(dir, '.git/flowreg'), { recursive: true, force: true });
    store = await open(dir);
    expect(store.versions('u-1').map((v) => v.version)).toEqual([renamed, c1.commit]);
    expect(store.versionOf('u-1', 'flows/uno.yaml').created).toBe(Number(git(dir, ['show', '-s', '--format=%ct', c1.commit as string])));
    // the merge did not change two.yaml relative to side: its version is side's commit, as git log says
    expect(store.versionOf('u-2', 'flows/two.yaml').version).toBe(side);
    expect(git(dir, ['log', '-1', '--format=%H', '--', 'flows/two.yaml'])).toBe(side);
  });
});

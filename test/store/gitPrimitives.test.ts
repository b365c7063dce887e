import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTreeEntries, hashObject, parseCommit, parseTree, serializeCommit, serializeTree, writeObject, type TreeEntry } from '../../src/store/gitObjects.ts';
import { getEntry, parseIndex, serializeIndex, setEntry } from '../../src/store/gitIndex.ts';
import { ObjectStore } from '../../src/store/objectStore.ts';
import { boundaries, deriveBoundaries, TreeDiffer } from '../../src/store/treeDiff.ts';
import { git, tempRepo, writeFiles } from '../helpers/tmp.ts';

function repoWithHistory(): string {
  const dir = tempRepo({ 'flows/a.yaml': 'uid: a\n', 'flows/b.yaml': 'uid: b\n', 'flows/sub/c.yaml': 'uid: c\n', 'README.md': 'x\n' });
  writeFiles(dir, { 'flows/a.yaml': 'uid: a\nlabel: changed\n', 'flows/d.yaml': 'uid: d\n' });
  git(dir, ['rm', '-q', 'flows/b.yaml']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'second']);
  return dir;
}

describe('git objects', () => {
  it('hashes blobs, trees and commits exactly as git does', () => {
    const dir = repoWithHistory();
    const blob = Buffer.from('uid: a\nlabel: changed\n');
    expect(hashObject('blob', blob)).toBe(git(dir, ['rev-parse', 'HEAD:flows/a.yaml']));
    const store = new ObjectStore(join(dir, '.git'));
    const treeOid = git(dir, ['rev-parse', 'HEAD:flows']);
    const entries = parseTree(store.readTyped(treeOid, 'tree'));
    expect(entries.map((e) => e.name)).toEqual(['a.yaml', 'd.yaml', 'sub']);
    expect(hashObject('tree', serializeTree([...entries].reverse().sort(compareTreeEntries)))).toBe(treeOid);
    const head = git(dir, ['rev-parse', 'HEAD']);
    const commit = parseCommit(store.readTyped(head, 'commit'));
    expect(commit.message).toBe('second\n');
    expect(commit.author).toEqual({ name: 'Test Author', email: 'author@example.com', timestamp: 1767323045, timezoneOffset: 0 });
    expect(hashObject('commit', serializeCommit(commit))).toBe(head);
  });

  it('writes loose objects that native git reads and fsck accepts', async () => {
    const dir = repoWithHistory();
    const oid = await writeObject(join(dir, '.git'), 'blob', Buffer.from('hello\n'), true);
    expect(git(dir, ['cat-file', '-p', oid])).toBe('hello');
    expect(git(dir, ['fsck', '--strict', '--no-dangling'])).toBe('');
  });

  it('reads packed objects, deltas included, identical to git cat-file', () => {
    const dir = repoWithHistory();
    for (let i = 0; i < 20; i++) {
      writeFiles(dir, { 'flows/a.yaml': `uid: a\nlabel: v${i}\n${'line of text\n'.repeat(200)}` });
      git(dir, ['commit', '-qam', `v${i}`]);
    }
    git(dir, ['gc', '-q', '--aggressive']);
    const store = new ObjectStore(join(dir, '.git'));
    const oids = git(dir, ['rev-list', '--objects', '--all']).split('\n').map((l) => l.split(' ')[0] as string);
    expect(oids.length).toBeGreaterThan(60);
    for (const oid of oids) {
      const obj = store.read(oid);
      expect(obj.type).toBe(git(dir, ['cat-file', '-t', oid]));
      expect(hashObject(obj.type, obj.content)).toBe(oid);
    }
  });
});

describe('git index', () => {
  it('round-trips the bytes of a native index and updates one entry so git status stays clean', () => {
    const dir = repoWithHistory();
    const path = join(dir, '.git', 'index');
    const before = readFileSync(path);
    const index = parseIndex(before);
    expect(serializeIndex(index).equals(before)).toBe(true);
    git(dir, ['update-index', '--index-version', '4']);
    const v4 = readFileSync(path);
    expect(parseIndex(v4).version).toBe(4);
    expect(serializeIndex(parseIndex(v4)).equals(v4)).toBe(true);
    git(dir, ['update-index', '--index-version', '2']);
    writeFiles(dir, { 'flows/a.yaml': 'uid: a\nlabel: third\n' });
    const oid = git(dir, ['hash-object', '-w', 'flows/a.yaml']);
    setEntry(index, 'flows/a.yaml', oid, statSync(join(dir, 'flows/a.yaml'), { bigint: true }));
    expect(getEntry(index, 'flows/a.yaml')?.oid).toBe(oid);
    writeFileSync(path, serializeIndex(index));
    expect(git(dir, ['diff', '--name-only'])).toBe('');
    expect(git(dir, ['diff', '--cached', '--name-only'])).toBe('flows/a.yaml');
  });
});

describe('tree diff', () => {
  it('finds added, removed and changed blobs under a folder, sub-folders included', () => {
    const dir = repoWithHistory();
    const store = new ObjectStore(join(dir, '.git'));
    const differ = new TreeDiffer(store);
    const changes = differ.diff(git(dir, ['rev-parse', 'HEAD~1:flows']), git(dir, ['rev-parse', 'HEAD:flows']), 'flows');
    expect(changes.map((c) => [c.path, c.oldOid !== null, c.newOid !== null])).toEqual([
      ['flows/a.yaml', true, true],
      ['flows/b.yaml', true, false],
      ['flows/d.yaml', false, true],
    ]);
    const all = differ.diff(null, git(dir, ['rev-parse', 'HEAD:flows']), 'flows');
    expect(all.map((c) => c.path)).toEqual(['flows/a.yaml', 'flows/d.yaml', 'flows/sub/c.yaml']);
  });
});

describe('tree boundaries derived from a neighbouring tree', () => {
  it('equal a full scan for random edits of large trees', () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    const entry = (name: string): TreeEntry => ({ mode: rand(9) === 0 ? '40000' : '100644', name, oid: Array.from({ length: 40 }, () => '0123456789abcdef'[rand(16)]).join('') });
    for (let trial = 0; trial < 200; trial++) {
      const names = new Set<string>();
      while (names.size < 50 + rand(400)) names.add(`f${rand(100000)}\u0000`.slice(0, -1) + (rand(3) === 0 ? '.yaml' : ''));
      const before = [...names].map(entry).sort(compareTreeEntries);
      const after = before.map((e) => ({ ...e }));
      for (let k = 0; k < 1 + rand(4); k++) {
        const op = rand(3);
        const at = rand(after.length);
        if (op === 0) after.splice(at, 1);
        else if (op === 1) after[at] = { ...(after[at] as TreeEntry), oid: entry('x').oid };
        else after.push(entry(`n${rand(100000)}`));
      }
      const dedup = [...new Map(after.map((e) => [e.name, e])).values()].sort(compareTreeEntries);
      const a = serializeTree(before);
      const b = serializeTree(dedup);
      expect([...deriveBoundaries({ buf: a, at: boundaries(a) }, b)]).toEqual([...boundaries(b)]);
    }
  });
});

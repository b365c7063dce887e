import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import git from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { emptyIndex, parseIndex, serializeIndex, setEntry } from '../../src/store/gitIndex.ts';
import { HistoryIndex } from '../../src/store/historyIndex.ts';
import { ObjectStore } from '../../src/store/objectStore.ts';
import { WorkingTree } from '../../src/store/WorkingTree.ts';
import { smallFlow } from '../helpers/flows.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The JavaScript heap in use after full collections, in bytes (Buffers' contents are not in it). */
function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('what the store keeps in memory per write', () => {
  it('serializes the index so that every entry points into the newest buffer only (an entry kept a whole older index alive)', () => {
    const dir = tempDir();
    const index = emptyIndex();
    for (let i = 0; i < 50; i++) {
      writeFileSync(join(dir, `f${i}`), `content ${i}`);
      setEntry(index, `flows/f${String(i).padStart(2, '0')}.yaml`, 'a'.repeat(40), lstatSync(join(dir, `f${i}`), { bigint: true }));
    }
    const read = parseIndex(serializeIndex(index));
    let out = serializeIndex(read);
    for (let k = 0; k < 5; k++) {
      // one entry changes per write, as in the store
      setEntry(read, `flows/f${String(k * 7).padStart(2, '0')}.yaml`, String(k).repeat(40), lstatSync(join(dir, `f${k}`), { bigint: true }));
      out = serializeIndex(read);
      const buffers = new Set(read.entries.map((e) => e.raw?.buffer));
      expect(buffers.size).toBe(1);
      expect([...buffers][0]).toBe(out.buffer);
    }
    // and the bytes still say the same
    expect(parseIndex(out).entries.map((e) => `${e.path} ${e.oid}`)).toEqual(read.entries.map((e) => `${e.path} ${e.oid}`));
  });

  it('keeps one cached inspection per flow file on disk, not one per past edit', async () => {
    const text = (label: string): string => formatFlow(smallFlow('u-1', 'one', { label }), { schemaRef: '../schemas/flow.schema.json' });
    const dir = await inProcessRepo({ 'flows/one.yaml': text('first'), 'flows/two.yaml': formatFlow(smallFlow('u-2', 'two'), { schemaRef: '../schemas/flow.schema.json' }) });
    const objects = new ObjectStore(join(dir, '.git'));
    const tree = new WorkingTree(dir, join(dir, '.git'), 'flows', objects, join(dir, '.git', 'flowreg', 'flows.json'));
    await tree.scan();
    expect(tree.inspectionCount).toBe(2);
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(dir, 'flows/one.yaml'), text(`edit ${i}`));
      const { changes } = await tree.scan(['flows/one.yaml']);
      expect(changes.map((c) => c.after?.summary?.label)).toEqual([`edit ${i}`]);
    }
    expect(tree.inspectionCount).toBe(2);
    objects.close();
  });

  it('keeps a commit record flowreg made with uids and authors shared, and its subject without the message it was cut from', () => {
    const dir = tempDir();
    const index = new HistoryIndex(new ObjectStore(join(dir, '.git')), join(dir, 'history.json'), 'flows');
    const uidOf = (j: number): string => `00000000-0000-4000-8000-${String(j).padStart(12, '0')}`;
    const oidOf = (k: number): string => createHash('sha1').update(`commit ${k}`).digest('hex');
    // as GitStore.write makes them: each request brings its uid and author as new strings, and the
    // subject is the first line of the commit message
    const write = (k: number, parent: string | null): string => {
      const body = JSON.parse(`{"uid":"${uidOf(k % 300)}","author":{"name":"flowreg-api","email":"flowreg-api@flowreg"}}`) as { uid: string; author: { name: string; email: string } };
      const message = `update flow flow_${k % 300} (${body.uid})\n\nFlow-Uid: ${body.uid}\n`;
      const oid = oidOf(k);
      index.addOwnCommit(oid, {
        parents: parent === null ? [] : [parent],
        time: 1_780_000_000 + k,
        timezoneOffset: 0,
        authorName: body.author.name,
        authorEmail: body.author.email,
        authorTime: 1_780_000_000 + k,
        subject: message.split('\n')[0] as string,
        uids: [body.uid],
      });
      index.noteBlob(createHash('sha1').update(`blob ${k}`).digest('hex'), body.uid);
      return oid;
    };
    let head = write(0, null);
    for (let k = 1; k < 1000; k++) head = write(k, head);
    const before = heapAfterGc();
    const n = 20_000;
    for (let k = 1000; k < 1000 + n; k++) head = write(k, head);
    const perWrite = (heapAfterGc() - before) / n;
    // measured: about 490 bytes a write (the commit's record and key, the blob's key, map entries);
    // about 700 when each record kept its own uid and e-mail strings (and the blob note its own uid)
    // and a subject that was a view of the whole commit message
    expect(perWrite).toBeLessThan(600);
    expect(perWrite).toBeGreaterThan(300);
    // and what the index answers is the same
    // flow 7 was written by commits 7, 307, …, 20,707
    expect(index.commitsOf(uidOf(7)).length).toBe(70);
    expect(index.commitsOf(uidOf(7))[0]).toBe(oidOf(20_707));
    expect(index.commitsOf(uidOf(7)).at(-1)).toBe(oidOf(7));
    expect(index.commit(head)).toEqual({
      parents: [oidOf(20_998)],
      time: 1_780_020_999,
      timezoneOffset: 0,
      authorName: 'flowreg-api',
      authorEmail: 'flowreg-api@flowreg',
      authorTime: 1_780_020_999,
      subject: `update flow flow_299 (${uidOf(299)})`,
      uids: [uidOf(299)],
    });
  });

  it('keeps no commit text alive for the commits it walks (a signed commit with a long message is kilobytes)', async () => {
    const dir = await inProcessRepo();
    const body = `${'A paragraph of a long commit message. '.repeat(200)}\n`;
    const n = 150;
    for (let k = 0; k < n; k++) {
      writeFileSync(join(dir, 'README.md'), `version ${k}\n`);
      await git.add({ fs, dir, filepath: 'README.md' });
      const who = { name: 'Someone Somewhere', email: 'someone@example.com', timestamp: 1_780_000_000 + k, timezoneOffset: 0 };
      await git.commit({ fs, dir, message: `change ${k} of the readme\n\n${body}`, author: who, committer: who });
    }
    const head = fs.readFileSync(join(dir, '.git', 'refs', 'heads', 'main'), 'utf8').trim();
    const objects = new ObjectStore(join(dir, '.git'));
    const index = new HistoryIndex(objects, join(dir, '.git', 'flowreg', 'history.json'), 'flows');
    const before = heapAfterGc();
    expect(index.update(head)).toBe(n);
    const perCommit = (heapAfterGc() - before) / n;
    // measured: about 2 kB a commit (the record, and the object cache's entries); about 17 kB when
    // each record's subject, author and parent ids, and the object cache's keys, were views of
    // the commit's text (7.6 kB here) and of its child's
    expect(perCommit).toBeLessThan(4000);
    expect(index.commit(head)?.subject).toBe(`change ${n - 1} of the readme`);
    expect(index.commit(head)?.authorName).toBe('Someone Somewhere');
    objects.close();
  });
});

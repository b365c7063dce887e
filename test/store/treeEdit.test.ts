import { describe, expect, it } from 'vitest';
import { compareTreeEntries, hashObject, serializeTree, type TreeEntry } from '../../src/store/gitObjects.ts';
import { editableTree, editTree, emptyTree, type TreeEdit } from '../../src/store/treeEdit.ts';
import { boundaries } from '../../src/store/treeDiff.ts';

describe('editTree', () => {
  it('gives the same bytes and offsets as serializing the edited entries, for random edits', () => {
    let seed = 11;
    const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    const oid = (): string => Array.from({ length: 40 }, () => '0123456789abcdef'[rand(16)]).join('');
    for (let trial = 0; trial < 300; trial++) {
      const names = [...new Set(Array.from({ length: rand(60) }, () => `n${rand(500)}${rand(2) ? '.yaml' : ''}`))];
      const entries: TreeEntry[] = names.map((name) => ({ mode: rand(6) ? '100644' : '40000', name, oid: oid() })).sort(compareTreeEntries);
      const start = entries.length ? editableTree(serializeTree(entries), entries) : emptyTree();
      const edits: TreeEdit[] = [];
      let expected = [...entries];
      for (let k = 0; k < 1 + rand(3); k++) {
        const name = rand(2) && expected.length ? (expected[rand(expected.length)] as TreeEntry).name : `m${rand(500)}.yaml`;
        const isTree = expected.find((e) => e.name === name)?.mode === '40000';
        const entry = rand(4) === 0 ? null : { mode: isTree ? '40000' : '100644', name, oid: oid() };
        edits.push({ name, isTree, entry });
        expected = expected.filter((e) => e.name !== name);
        if (entry) expected.push(entry);
        expected.sort(compareTreeEntries);
      }
      const out = editTree(start, edits);
      const want = serializeTree(expected);
      expect(hashObject('tree', out.buf)).toBe(hashObject('tree', want));
      expect([...out.offsets]).toEqual([...boundaries(want)]);
      expect(out.entries).toEqual(expected);
    }
  });
});

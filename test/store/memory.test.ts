import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { emptyIndex, parseIndex, serializeIndex, setEntry } from '../../src/store/gitIndex.ts';
import { ObjectStore } from '../../src/store/objectStore.ts';
import { WorkingTree } from '../../src/store/WorkingTree.ts';
import { smallFlow } from '../helpers/flows.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { tempDir } from '../helpers/tmp.ts';

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
});

import { fstatSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isFlowregError } from '../../src/errors/index.ts';
import { setWriteForTests } from '../../src/store/fsWrite.ts';
import { GitStore } from '../../src/store/GitStore.ts';
import { smallFlow } from '../helpers/flows.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';

afterEach(() => setWriteForTests(null));

const alice = { name: 'Alice', email: 'alice@example.com' };

describe('a write that fails after it edited the index in memory', () => {
  it('leaves the next write of the same flow free to commit (the in-memory index is dropped, not trusted)', async () => {
    const dir = await inProcessRepo();
    const store = await GitStore.open({ dir, durable: false });
    await store.write({ verb: 'create', uid: 'u-1', author: alice, apply: () => smallFlow('u-1', 'chat') });
    // the next write of the index (into .git/index.lock) finds the disk full
    let failed = false;
    setWriteForTests((fd, buf, offset, length, position) => {
      let isIndexLock = false;
      try {
        isIndexLock = fstatSync(fd).ino === statSync(join(dir, '.git/index.lock')).ino;
      } catch {
        // no index lock now
      }
      if (isIndexLock && !failed) {
        failed = true;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return writeSync(fd, buf, offset, length, position);
    });
    const update = (label: string) => store.write({ verb: 'update', uid: 'u-1', author: alice, apply: (cur) => ({ ...(cur?.file ?? smallFlow('u-1', 'chat')), label }) });
    const err = await update('on a full disk').catch((e: unknown) => e);
    expect(failed).toBe(true);
    expect(isFlowregError(err, 'STORAGE_FULL')).toBe(true);
    const again = await update('space is back');
    expect(again.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(store.flow('u-1').summary.label).toBe('space is back');
    await store.close();
  });
});

import { writeSync } from 'node:fs';
import { storageError } from '../errors/index.ts';

export { storageError };

/**
 * The one way the write path puts bytes into a file: every byte or an error, never a silent short
 * write (a full disk lets `write(2)` take only part of a buffer), and errors of the storage itself
 * (a full disk, a quota, a read-only file system) as FlowregErrors that name the cause and what
 * was being written.
 */

type WriteFn = (fd: number, buf: Uint8Array, offset: number, length: number, position: number | null) => number;

const realWrite: WriteFn = (fd, buf, offset, length, position) => writeSync(fd, buf, offset, length, position);
let write: WriteFn = realWrite;

/**
 * Test hook: replaces the system write (for example by one that writes fewer bytes or throws
 * ENOSPC, where a small file system cannot be mounted). `null` restores the real one.
 */
export function setWriteForTests(fn: WriteFn | null): void {
  write = fn ?? realWrite;
}

/**
 * Writes all of `data` to `fd` (at `position`, or at the file position when null), looping over
 * short writes; a write that takes nothing is a full disk. Errors come out through storageError.
 */
export function writeAll(fd: number, data: Uint8Array | string, what: string, position: number | null = null): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let done = 0;
  try {
    while (done < buf.byteLength) {
      const n = write(fd, buf, done, buf.byteLength - done, position === null ? null : position + done);
      if (n <= 0) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
      done += n;
    }
  } catch (err) {
    throw storageError(err, what);
  }
}

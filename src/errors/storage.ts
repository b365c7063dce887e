import { FlowregError } from './FlowregError.ts';

/** The errno codes that mean the storage, not flowreg or the request, is at fault. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
const READ_ONLY = new Set(['EROFS']);

/** True when `err` is an error of the storage itself (full, over quota, read-only). */
export function isStorageErrno(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (FULL.has(code) || READ_ONLY.has(code));
}

/**
 * `err` as the FlowregError it stands for when the storage is at fault: STORAGE_FULL for a full
 * disk or quota, STORAGE_READ_ONLY for a read-only file system, naming `what` was being written;
 * any other error is returned as it is.
 */
export function storageError(err: unknown, what: string): unknown {
  if (err instanceof FlowregError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (FULL.has(code)) {
    const cause = code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device';
    return new FlowregError('STORAGE_FULL', `${cause} while writing ${what}; nothing was written: free space and try again`, { errno: code }, { cause: err });
  }
  if (READ_ONLY.has(code)) {
    return new FlowregError('STORAGE_READ_ONLY', `the repository's file system is read-only (writing ${what}); nothing was written`, { errno: code }, { cause: err });
  }
  return err;
}

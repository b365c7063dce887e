import type { ErrorCode } from '../errors/index.ts';

/** How one error code travels over HTTP: its status, DB-GPT's `err_code`, and why that status. */
export interface ErrorRow {
  status: number;
  /** DB-GPT's `err_code`: `E0001` validation, `E0003` other 400s, else the status as text. */
  errCode: string;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfter?: number;
}

/**
 * Every error code of src/errors/codes.ts mapped to an honest HTTP status and DB-GPT's
 * `err_code` (a test checks that every code has a row, and docs/errors.md shows the statuses).
 * REPO_LOCKED is 503 with Retry-After, not 423: the lock belongs to another live process (a git
 * command, another daemon) and is released within moments, so the request should simply be
 * retried; 423 is WebDAV's "the resource is locked until unlocked", which HTTP clients do not
 * retry.
 * STORAGE_FULL is 507 (Insufficient Storage) and STORAGE_READ_ONLY 503, both with Retry-After:
 * the request was fine and nothing was written, so the same request succeeds once an operator
 * frees space or remounts the file system read-write. REPO_CORRUPT is 500 with a message naming
 * the object that cannot be read (not the FILE_MODIFIED 409 a stale state would give).
 */
export const ERROR_TABLE: Record<ErrorCode, ErrorRow> = {
  INVALID_INPUT: { status: 400, errCode: 'E0001' },
  FLOW_INVALID: { status: 400, errCode: 'E0001' },
  FLOW_NOT_FOUND: { status: 404, errCode: '404' },
  VERSION_NOT_FOUND: { status: 404, errCode: '404' },
  FLOW_EXISTS: { status: 409, errCode: '409' },
  NAME_TAKEN: { status: 409, errCode: '409' },
  FLOW_NOT_EDITABLE: { status: 403, errCode: '403' },
  VERSION_CONFLICT: { status: 409, errCode: '409' },
  PRECONDITION_FAILED: { status: 412, errCode: '412' },
  UNSAFE_PATH: { status: 400, errCode: 'E0003' },
  REPO_BUSY: { status: 409, errCode: '409' },
  FILE_MODIFIED: { status: 409, errCode: '409' },
  REPO_LOCKED: { status: 503, errCode: '503', retryAfter: 1 },
  BRANCH_DIVERGED: { status: 409, errCode: '409' },
  PUSH_REJECTED: { status: 409, errCode: '409' },
  REMOTE_UNREACHABLE: { status: 503, errCode: '503', retryAfter: 5 },
  STORAGE_FULL: { status: 507, errCode: '507', retryAfter: 30 },
  STORAGE_READ_ONLY: { status: 503, errCode: '503', retryAfter: 30 },
  REPO_CORRUPT: { status: 500, errCode: '500' },
  UNAUTHORIZED: { status: 401, errCode: '401' },
  PAYLOAD_TOO_LARGE: { status: 413, errCode: '413' },
  NOT_SUPPORTED: { status: 400, errCode: 'E0003' },
  RUNTIME_UNAVAILABLE: { status: 502, errCode: '502' },
  USAGE: { status: 400, errCode: 'E0003' },
  INTERNAL: { status: 500, errCode: '500' },
};

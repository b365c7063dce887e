/**
 * Every error code flowreg raises, with a one-line meaning. docs/errors.md lists the same codes
 * (a test checks both directions); the server maps each code to an HTTP status in one table.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 'The request or argument is malformed (wrong type, missing field, bad JSON).',
  FLOW_INVALID: 'The flow does not pass validation; `data.findings` holds the findings.',
  FLOW_NOT_FOUND: 'No flow has this uid (or name).',
  VERSION_NOT_FOUND: 'The flow has no version (commit) with this id.',
  FLOW_EXISTS: 'A flow with this uid already exists.',
  NAME_TAKEN: 'Another flow already has this name.',
  FLOW_NOT_EDITABLE: 'The flow is stored with `editable: false`.',
  VERSION_CONFLICT: 'The flow changed since the version the write was based on.',
  PRECONDITION_FAILED: 'The `If-Match` header does not match the flow\'s current version.',
  UNSAFE_PATH: 'A uid or name would not make a safe file path inside the flows folder.',
  REPO_BUSY: 'The repository is in the middle of a merge, rebase, cherry-pick or revert.',
  FILE_MODIFIED: 'The flow\'s file has uncommitted local changes, so a write would overwrite them.',
  REPO_LOCKED: 'Another live process holds the repository lock (`.git/index.lock`).',
  BRANCH_DIVERGED: 'The local branch has commits the remote does not, and the remote moved on.',
  PUSH_REJECTED: 'The remote rejected the push: the flow itself changed there, or the remote refused it (a hook; the message quotes its reason).',
  REMOTE_UNREACHABLE: 'The remote could not be reached; nothing was written.',
  STORAGE_FULL: 'The repository\'s disk is full (or over quota); nothing was written.',
  STORAGE_READ_ONLY: 'The repository\'s file system is read-only; nothing was written.',
  REPO_CORRUPT: 'An object the repository needs (such as the HEAD commit) cannot be read: the repository is corrupt.',
  UNAUTHORIZED: 'A valid API key is required.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than the configured limit.',
  NOT_SUPPORTED: 'The operation is part of DB-GPT but not supported by flowreg.',
  RUNTIME_UNAVAILABLE: 'A request forwarded to the DB-GPT runtimes found none that answered; the message names each runtime and why.',
  USAGE: 'The command line is wrong (unknown option, missing argument).',
  INTERNAL: 'An unexpected failure; the message says what was being done.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

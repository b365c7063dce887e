export { ERROR_CODES, type ErrorCode } from './codes.ts';
export { FlowregError, isFlowregError } from './FlowregError.ts';
export { redactCredentials } from './redact.ts';
export { isStorageErrno, storageError } from './storage.ts';

import type { ErrorCode } from './codes.ts';

/**
 * The one error class of flowreg: a stable code, a readable message, a data payload and a cause.
 * It knows nothing of HTTP; the server maps codes to statuses.
 */
export class FlowregError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowregError';
    this.code = code;
    this.data = data;
  }
}

/** True when `err` is a FlowregError, optionally with the given code. */
export function isFlowregError(err: unknown, code?: ErrorCode): err is FlowregError {
  return err instanceof FlowregError && (code === undefined || err.code === code);
}

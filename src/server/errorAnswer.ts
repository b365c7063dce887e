import type { Finding } from '../core/types.ts';
import { FlowregError, isFlowregError, isStorageErrno, storageError } from '../errors/index.ts';
import { envelope, type ResultBody } from './envelope.ts';
import { ERROR_TABLE } from './errorTable.ts';

/** An error as the server answers it. */
export interface ErrorAnswer {
  status: number;
  body: ResultBody<never>;
  retryAfter?: number;
  /** True when nothing in the request explains the error (it is logged as a bug). */
  internal: boolean;
}

/** At most this many findings are spelled out in one `err_msg`; a huge invalid body stays readable. */
const MAX_FINDINGS = 50;

function isFinding(v: unknown): v is Finding {
  return typeof v === 'object' && v !== null && typeof (v as Finding).path === 'string' && typeof (v as Finding).message === 'string';
}

/** `/flow_data/edges/0/target` under `body` → `body.flow_data.edges.0.target`, pydantic's `loc` form. */
export function locOf(pointer: string, root = 'body'): string {
  if (pointer === '') return root;
  return [root, ...pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))].join('.');
}

/**
 * DB-GPT's validation text: `<loc>:<msg>;` per finding (errors only, or all when there is no
 * error), as FastAPI's handler concatenates them.
 */
export function validationMessage(findings: Finding[], root = 'body'): string {
  const errors = findings.filter((f) => f.severity === 'error');
  const shown = errors.length > 0 ? errors : findings;
  // The schema stage can report one problem twice (two keywords, one value): say it once.
  const parts = [...new Set(shown.map((f) => `${locOf(f.path, root)}:${f.message};`))];
  const extra = parts.length - MAX_FINDINGS;
  parts.splice(MAX_FINDINGS);
  if (extra > 0) parts.push(`${root}:and ${extra} more findings;`);
  return parts.join('');
}

function messageOf(err: FlowregError): string {
  const findings = err.data.findings;
  const root = typeof err.data.loc === 'string' ? err.data.loc : 'body';
  if (Array.isArray(findings) && findings.length > 0 && findings.every(isFinding)) return validationMessage(findings, root);
  if ((err.code === 'INVALID_INPUT' || err.code === 'FLOW_INVALID') && typeof err.data.loc === 'string') return `${err.data.loc}:${err.message};`;
  return err.message;
}

/** The FlowregError for an error raised by express or its body parser, or undefined when it is none of theirs. */
function fromHttpError(err: unknown): FlowregError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { type?: unknown; status?: unknown; message?: unknown; limit?: unknown };
  const text = typeof e.message === 'string' ? e.message : 'bad request';
  switch (e.type) {
    case 'entity.too.large':
      return new FlowregError('PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${typeof e.limit === 'number' ? `${e.limit} bytes` : 'the server'}`);
    case 'entity.parse.failed':
      return new FlowregError('INVALID_INPUT', `the body is not valid JSON: ${text}`, { loc: 'body' });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new FlowregError('INVALID_INPUT', `${text}; send the body as UTF-8 JSON`, { loc: 'body' });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new FlowregError('INVALID_INPUT', `the request body could not be read: ${text}`, { loc: 'body' });
    default:
  }
  // express answers a path parameter that is not valid percent-encoding with a 400 URIError.
  if (err instanceof URIError || (typeof e.status === 'number' && e.status >= 400 && e.status < 500)) {
    return new FlowregError('INVALID_INPUT', `the request is malformed: ${text}`, { loc: 'path' });
  }
  return undefined;
}

/**
 * The HTTP answer for any error: FlowregErrors by ERROR_TABLE, express's and the body parser's
 * own errors as the FlowregError they stand for, a full or read-only disk (ENOSPC, EDQUOT, EROFS)
 * as STORAGE_FULL or STORAGE_READ_ONLY, anything else as a 500 INTERNAL (a bug: the caller logs
 * it).
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  // a full or read-only disk met outside the write path's own checks (a lock file, a fetch's pack)
  const known = isFlowregError(err) ? err : isStorageErrno(err) ? (storageError(err, 'the repository') as FlowregError) : fromHttpError(err);
  if (known === undefined) {
    const what = err instanceof Error ? err.message : String(err);
    return { status: 500, body: envelope.failed(ERROR_TABLE.INTERNAL.errCode, `internal error: ${what}`), internal: true };
  }
  const row = ERROR_TABLE[known.code];
  const message = messageOf(known) || known.code;
  const answer: ErrorAnswer = { status: row.status, body: envelope.failed(row.errCode, message), internal: known.code === 'INTERNAL' };
  if (row.retryAfter !== undefined) answer.retryAfter = row.retryAfter;
  return answer;
}

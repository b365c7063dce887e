import type { JsonObject } from '../core/types.ts';
import { isObject } from '../core/jsonAccess.ts';
import type { RuntimeTarget } from './types.ts';

/** How a runtime failed a call: unreachable, slow, refusing the key, answering garbage, or refusing the flow itself. */
export type RuntimeErrorKind = 'down' | 'timeout' | 'unauthorized' | 'garbage' | 'server' | 'refused' | 'conflict';

/** A failed call to a runtime, with a message that names the runtime and never its key. */
export class RuntimeError extends Error {
  constructor(
    readonly kind: RuntimeErrorKind,
    message: string,
    /** The HTTP status, when the runtime answered. */
    readonly status: number | null = null,
    /** DB-GPT's `err_code` (E0003: an operator is not registered). */
    readonly code: string | null = null,
  ) {
    // DB-GPT's messages can carry a whole SQL statement
    super(message.length > 500 ? `${message.slice(0, 497)}...` : message);
  }

  /** True when the runtime itself is the problem (unreachable, slow, key, garbage, 5xx), not the flow. */
  get runtimeDown(): boolean {
    return this.kind !== 'refused' && this.kind !== 'conflict';
  }
}

const FLOWS = '/api/v2/serve/awel/flows';

/** Flows per list page: DB-GPT has no cap; a page of 500 corpus-sized flows is a few megabytes. */
const LIST_PAGE = 500;

/**
 * DB-GPT's flow API on one runtime, as the reconcile needs it: list, get, create, update,
 * delete. Every call has a timeout; every failure is a RuntimeError whose message says which
 * runtime and what happened (DB-GPT's own `err_msg` when it gave one).
 */
export class RuntimeClient {
  constructor(
    readonly target: RuntimeTarget,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call(method: string, path: string, body?: JsonObject): Promise<{ status: number; json: JsonObject }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.target.apiKey !== null) headers.authorization = `Bearer ${this.target.apiKey}`;
    const where = `runtime ${this.target.name} (${this.target.url})`;
    let res: Response | null = null;
    const signal = AbortSignal.timeout(this.timeoutMs);
    // a keep-alive connection the server closed just as it was reused fails at once: one more try
    for (let attempt = 1; res === null; attempt++) {
      try {
        res = await fetch(this.target.url + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal });
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string; message?: string } };
        if (e.name === 'TimeoutError') throw new RuntimeError('timeout', `${where} did not answer ${method} ${path} within ${this.timeoutMs / 1000} s`);
        const why = e.cause?.code ?? e.cause?.message ?? String(err);
        if (attempt === 1 && (why === 'ECONNRESET' || why === 'UND_ERR_SOCKET' || why === 'other side closed')) continue;
        throw new RuntimeError('down', `${where} is unreachable: ${why}`);
      }
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      const e = err as { name?: string };
      if (e.name === 'TimeoutError') throw new RuntimeError('timeout', `${where} did not finish answering ${method} ${path} within ${this.timeoutMs / 1000} s`, res.status);
      throw new RuntimeError('down', `${where} broke off its answer to ${method} ${path}: ${String(err)}`, res.status);
    }
    if (res.status === 401 || res.status === 403) {
      // DB-GPT answers a wrong or missing key with 401; 403 is also a flow that is not editable
      const json = parse(text);
      if (res.status === 401 || json === null || !/editable/i.test(String(json.err_msg ?? json.detail ?? ''))) {
        throw new RuntimeError('unauthorized', `${where} refused flowreg's API key (HTTP ${res.status}): set the runtime's key (docs/runtimes.md)`, res.status);
      }
    }
    const json = parse(text);
    if (json === null) {
      const type = res.headers.get('content-type') ?? 'no content type';
      const start = text.slice(0, 120).replace(/\s+/g, ' ');
      throw new RuntimeError(res.status >= 500 ? 'server' : 'garbage', `${where} answered ${method} ${path} with HTTP ${res.status} and ${type}, not DB-GPT's JSON: ${JSON.stringify(start)}`, res.status);
    }
    if (res.status >= 500) throw new RuntimeError('server', `${where} failed ${method} ${path}: HTTP ${res.status} ${messageOf(json)}`, res.status, codeOf(json));
    return { status: res.status, json };
  }

  /** The Result envelope's data, or a RuntimeError with DB-GPT's err_code and err_msg. */
  private async result(method: string, path: string, body?: JsonObject): Promise<unknown> {
    const { status, json } = await this.call(method, path, body);
    if (json.success === true) return json.data;
    const msg = messageOf(json);
    const code = codeOf(json);
    const kind = /already exist|UNIQUE constraint/i.test(msg) ? 'conflict' : 'refused';
    throw new RuntimeError(kind, `${msg}${code !== null ? ` (${code})` : ''}`, status, code);
  }

  /** Every flow on the runtime (paged through). */
  async list(): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (let page = 1; ; page++) {
      const data = await this.result('GET', `${FLOWS}?page=${page}&page_size=${LIST_PAGE}`);
      if (!isObject(data) || !Array.isArray(data.items)) {
        throw new RuntimeError('garbage', `runtime ${this.target.name} (${this.target.url}) answered the flow list without items`);
      }
      for (const item of data.items) if (isObject(item) && typeof item.uid === 'string') out.push(item);
      const pages = typeof data.total_pages === 'number' ? data.total_pages : 0;
      if (page >= pages || data.items.length === 0) return out;
    }
  }

  /** One flow, or null when the runtime has none with this uid. */
  async get(uid: string): Promise<JsonObject | null> {
    const { json } = await this.call('GET', `${FLOWS}/${encodeURIComponent(uid)}`);
    if (json.success === true && isObject(json.data)) return json.data;
    // DB-GPT answers an unknown uid with success:false (HTTP 200 or 404) or with data null
    if (json.success === true || /not found|not exist/i.test(messageOf(json))) return null;
    throw new RuntimeError('refused', messageOf(json), null, codeOf(json));
  }

  async create(body: JsonObject): Promise<JsonObject> {
    const data = await this.result('POST', FLOWS, body);
    return isObject(data) ? data : {};
  }

  async update(body: JsonObject): Promise<JsonObject> {
    const data = await this.result('PUT', `${FLOWS}/${encodeURIComponent(String(body.uid))}`, body);
    return isObject(data) ? data : {};
  }

  async delete(uid: string): Promise<void> {
    await this.result('DELETE', `${FLOWS}/${encodeURIComponent(uid)}`);
  }
}

function parse(text: string): JsonObject | null {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

function messageOf(json: JsonObject): string {
  const m = json.err_msg ?? json.message ?? json.detail;
  return typeof m === 'string' ? m : JSON.stringify(m ?? json).slice(0, 300);
}

function codeOf(json: JsonObject): string | null {
  return typeof json.err_code === 'string' ? json.err_code : null;
}

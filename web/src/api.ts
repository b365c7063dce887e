/**
 * Calls to flowreg's API from the page. With API keys configured the page asks for a key once and
 * keeps it in sessionStorage (for this tab only); every request, the event stream included, sends
 * it as `Authorization: Bearer <key>`. The event stream is read with fetch (EventSource cannot send
 * headers), so no key ever goes into a URL.
 */
export const BASE = '/api/v2/serve/awel';
const KEY = 'flowreg.apiKey';

export function getKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

/** An answer that is not a success: its HTTP status, DB-GPT's err_code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

type AuthListener = () => void;
const authListeners = new Set<AuthListener>();
/** Called when an answer is 401: the page asks for a key. */
export function onUnauthorized(fn: AuthListener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = getKey();
  return key === null ? extra : { ...extra, Authorization: `Bearer ${key}` };
}

/** A raw call with the key. */
export async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  // no-store: one URL answers JSON or YAML by Accept, and the daemon's 304 for a matching ETag does not look at Accept
  const res = await fetch(path.startsWith('/') ? path : `${BASE}/${path}`, { cache: 'no-store', ...init, headers: headers(init.headers) });
  if (res.status === 401) for (const fn of authListeners) fn();
  return res;
}

/** A call answered in DB-GPT's envelope: its data, or an ApiError. Also gives the ETag. */
export async function api<T>(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<{ data: T; etag: string | null }> {
  const res = await call(path, init);
  let body: { success?: boolean; err_code?: string | null; err_msg?: string | null; data?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(res.status, null, `${res.status} ${res.statusText}: not JSON`);
  }
  if (!res.ok || body.success !== true) throw new ApiError(res.status, body.err_code ?? null, body.err_msg ?? `${res.status} ${res.statusText}`, body.data ?? null);
  return { data: body.data as T, etag: res.headers.get('etag') };
}

/** The flows that changed, as the daemon's event stream says. */
export interface ChangeEvent {
  uids: string[];
  source: string;
}

/**
 * Follows `/web/events` (server-sent events read with fetch, so the key is a header): calls
 * `onChange` for each change of flows, `onRuntime` for each change of a runtime's status, and
 * `onState` when connected or not; reconnects after a second. Returns the function that stops it.
 */
export function followEvents(onChange: (e: ChangeEvent) => void, onState: (connected: boolean) => void, onRuntime: (runtime: string) => void = () => undefined): () => void {
  let stopped = false;
  let abort: AbortController | null = null;
  const run = async (): Promise<void> => {
    while (!stopped) {
      abort = new AbortController();
      try {
        const res = await call(`${BASE}/web/events`, { signal: abort.signal, headers: { Accept: 'text/event-stream' } });
        if (!res.ok || res.body === null) throw new Error(`events: ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).trim();
            }
            if (event === 'ready') onState(true);
            if (event === 'change') onChange(JSON.parse(data) as ChangeEvent);
            if (event === 'runtime') onRuntime((JSON.parse(data) as { runtime: string }).runtime);
          }
        }
      } catch {
        // reconnect below
      }
      onState(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => {
    stopped = true;
    abort?.abort();
  };
}

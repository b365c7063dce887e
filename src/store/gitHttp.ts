import http from 'node:http';
import https from 'node:https';

/** What isomorphic-git sends through its `http` plugin. */
interface GitHttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array[];
  signal?: AbortSignal;
}

/** What it expects back. */
interface GitHttpResponse {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: AsyncIterableIterator<Uint8Array>;
  statusCode: number;
  statusMessage: string;
}

/** isomorphic-git's HttpClient, and the last time it cut off a silent remote. */
export interface GitHttpClient {
  request(req: GitHttpRequest): Promise<GitHttpResponse>;
  /**
   * The last cut-off, until the caller clears it. isomorphic-git swallows an error thrown while it
   * reads an answer's body (it takes it for the end of the answer and then fails to parse what it
   * got: "Expected unpack ok … but received ''"), so the caller looks here for the real cause.
   */
  silence: RemoteSilentError | null;
}

/** The error of a remote that went silent: `code` ETIMEDOUT, so it counts as unreachable. */
export class RemoteSilentError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly idleMs: number) {
    super(`the remote sent nothing for ${idleMs >= 1000 ? `${idleMs / 1000} s` : `${idleMs} ms`} (no answer, or a transfer that stalled)`);
  }
}

async function collect(body: NonNullable<GitHttpRequest['body']>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of body as AsyncIterable<Uint8Array>) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * isomorphic-git's HTTP transport with a bound: a connection, an answer or a transfer that stays
 * silent for `idleMs` (no byte either way) is cut off with RemoteSilentError, so a hung remote
 * can never hold a fetch, a push, and with it the write queue, forever. isomorphic-git's own node
 * transport has no timeout at all.
 */
export function gitHttpClient(idleMs: number): GitHttpClient {
  const client: GitHttpClient = {
    silence: null,
    async request({ url, method = 'GET', headers = {}, body, signal }) {
      const payload = body === undefined ? undefined : await collect(body);
      // as isomorphic-git's own transport (simple-get): redirects are followed, a few times
      for (let hops = 0; ; hops++) {
        const res = await once(url, method, headers, payload, signal, idleMs, (err) => (client.silence = err));
        const to = res.headers.location;
        if (hops < 5 && [301, 302, 303, 307, 308].includes(res.statusCode) && to !== undefined) {
          await res.body.return?.(undefined);
          url = new URL(to, url).href;
          continue;
        }
        return res;
      }
    },
  };
  return client;
}

/** One request and its answer (the answer's body still to be read). */
function once(url: string, method: string, headers: Record<string, string>, payload: Buffer | undefined, signal: AbortSignal | undefined, idleMs: number, onSilence: (err: RemoteSilentError) => void): Promise<GitHttpResponse> {
  const u = new URL(url);
  const transport = u.protocol === 'https:' ? https : http;
  return new Promise<GitHttpResponse>((resolve, reject) => {
    const req = transport.request(u, { method, headers: payload ? { ...headers, 'content-length': String(payload.length) } : headers, ...(signal ? { signal } : {}) });
    // an idle socket (connect, waiting for the answer, or mid-transfer) is cut off
    req.setTimeout(idleMs, () => {
      const err = new RemoteSilentError(idleMs);
      onSilence(err);
      req.destroy(err);
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.on('error', () => undefined);
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
      // the answer's errors (the idle cut included) reach isomorphic-git through the iterator
      const iterator = (async function* (): AsyncGenerator<Uint8Array> {
        for await (const chunk of res) yield chunk as Uint8Array;
      })();
      req.on('error', (err) => res.destroy(err));
      resolve({ url: res.url || url, method, headers: out, body: iterator, statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '' });
    });
    req.end(payload);
  });
}

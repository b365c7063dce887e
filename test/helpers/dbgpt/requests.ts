/** Small HTTP helpers for the tests that talk to a real DB-GPT (and to flowreg the same way). */
import { request as httpRequest } from 'node:http';
import { corpusFlow } from '../flows.ts';

/** The corpus file of DB-GPT's "simple streaming chat" template (trigger → HOStreamingLLMOperator → OpenAI output). */
export const SIMPLE_CHAT_FILE = 'simple_streaming_chat_flow.json';

/**
 * The corpus simple streaming chat flow as a create body: our own `uid`, `name` and label,
 * `state` (default `deployed`: DB-GPT registers it and it runs), and none of the keys DB-GPT
 * fills in itself (`dag_id`, `gmt_*`, `metadata`).
 */
export function simpleChatBody(uid: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const flow: Record<string, unknown> = { ...corpusFlow(SIMPLE_CHAT_FILE) };
  for (const key of ['dag_id', 'gmt_created', 'gmt_modified', 'metadata']) delete flow[key];
  return { ...flow, uid, name, label: name.replace(/_/g, ' '), state: 'deployed', ...extra };
}

/** An answer: status, lower-cased headers, the raw text and its JSON (undefined when not JSON). */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

/**
 * Sends one request on a connection of its own (as curl does); `body` is JSON-encoded unless it
 * is a string or FormData. A fresh connection each time matters: after a request that raised in
 * the app (a duplicate uid), DB-GPT's uvicorn closes the keep-alive connection, and a client that
 * reuses it gets ECONNRESET on its next request.
 */
export async function call(base: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  let payload: Buffer | undefined;
  if (opts.body instanceof FormData) {
    // Let fetch's Request encode the multipart body and its boundary.
    const encoded = new Request('http://localhost/', { method: 'POST', body: opts.body });
    payload = Buffer.from(await encoded.arrayBuffer());
    headers['Content-Type'] = encoded.headers.get('content-type')!;
  } else if (opts.body !== undefined) {
    payload = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  if (payload !== undefined) headers['Content-Length'] = String(payload.length);
  const url = new URL(`${base}${path}`);
  return new Promise<Answer>((resolveAnswer, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, agent: false, timeout: opts.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
        resolveAnswer({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href}: no answer within ${opts.timeoutMs ?? 60_000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The `data: …` payloads of an SSE text, in order (`[DONE]` kept as the string). */
export function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((ev) =>
      ev
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n'),
    )
    .filter((d) => d !== '');
}

/** The text of an OpenAI-style chat stream: the `delta.content` of every chunk, concatenated. */
export function streamedContent(text: string): string {
  let out = '';
  for (const d of sseData(text)) {
    if (d === '[DONE]') continue;
    const chunk = JSON.parse(d) as { choices?: Array<{ delta?: { content?: string | null } }> };
    out += chunk.choices?.[0]?.delta?.content ?? '';
  }
  return out;
}

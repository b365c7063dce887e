/**
 * A deterministic OpenAI-compatible LLM on 127.0.0.1, in-process, for the tests that run a real
 * DB-GPT (its `proxy/openai` model points here) or forward chats.
 *
 * - `GET /v1/models`: the one model.
 * - `POST /v1/chat/completions`: the answer `STUB-ANSWER to: <last user message>` (then `words`
 *   filler words), as JSON, or with `"stream": true` as SSE streamed word by word: a role chunk,
 *   one chunk per word, a `finish_reason: "stop"` chunk (with `usage` when
 *   `stream_options.include_usage`), `data: [DONE]`. The chunk shapes are those DB-GPT 0.8.2's
 *   OpenAI client (openai 3.x, AsyncOpenAI) parses.
 * - `POST /v1/embeddings`: deterministic 8-dimensional vectors.
 *
 * Every request is recorded. `words` and `delayMs` can be changed while it runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stub received. */
export interface StubLlmRequest {
  method: string;
  /** Path with query. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or null when empty. */
  body: unknown;
  /** `Date.now()` when it arrived. */
  at: number;
}

/** Options of startStubLlm; `words` and `delayMs` are also settable on the running stub. */
export interface StubLlmOptions {
  /** The model id answered by /v1/models and in replies (default `stub-model`). */
  model?: string;
  /** Filler words added after the answer (`word1 word2 …`), for long answers. Default 0. */
  words?: number;
  /** Milliseconds to wait before each streamed content chunk. Default 0. */
  delayMs?: number;
}

/** A running stub. */
export interface StubLlm {
  /** The OpenAI `api_base`: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  readonly model: string;
  /** Filler words after the answer (settable). */
  words: number;
  /** Delay before each streamed content chunk, in ms (settable). */
  delayMs: number;
  /** Requests received, in order (the array is live; clear it with `requests.length = 0`). */
  readonly requests: StubLlmRequest[];
  /** The chat completion requests received (`POST …/chat/completions`). */
  chats(): StubLlmRequest[];
  /** The full answer the stub gives to this user message with the current `words`. */
  answerTo(userMessage: string): string;
  /** Stops listening and destroys every open connection (streams in progress included). */
  close(): Promise<void>;
}

/** The answer to `userMessage`, with `words` filler words: `STUB-ANSWER to: <msg> word1 … wordN`. */
export function stubAnswer(userMessage: string, words = 0): string {
  const filler = Array.from({ length: words }, (_, i) => ` word${i + 1}`).join('');
  return `STUB-ANSWER to: ${userMessage}${filler}`;
}

/** The streamed pieces of an answer: the first word, then each later word with its leading space. */
export function stubChunks(text: string): string[] {
  return text.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`));
}

/** The content of the last `user` message (content parts joined with spaces); '' when none. */
export function lastUserMessage(messages: unknown): string {
  let last = '';
  if (!Array.isArray(messages)) return last;
  for (const m of messages as unknown[]) {
    if (typeof m !== 'object' || m === null || (m as { role?: unknown }).role !== 'user') continue;
    const c = (m as { content?: unknown }).content;
    if (typeof c === 'string') last = c;
    else if (Array.isArray(c)) last = c.map((p) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join(' ');
    else last = '';
  }
  return last;
}

const CREATED = 1700000000;
const COMPLETION_ID = 'chatcmpl-stub';

/** Starts the stub on 127.0.0.1 at a free port. */
export async function startStubLlm(opts: StubLlmOptions = {}): Promise<StubLlm> {
  const model = opts.model ?? 'stub-model';
  const requests: StubLlmRequest[] = [];
  const state = { words: opts.words ?? 0, delayMs: opts.delayMs ?? 0 };

  const json = (res: ServerResponse, status: number, obj: unknown): void => {
    const data = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    res.end(data);
  };

  const chat = async (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> => {
    const replyModel = typeof body.model === 'string' && body.model !== '' ? body.model : model;
    const text = stubAnswer(lastUserMessage(body.messages), state.words);
    const pieces = stubChunks(text);
    const usage = { prompt_tokens: 1, completion_tokens: pieces.length, total_tokens: 1 + pieces.length };
    if (body.stream !== true) {
      json(res, 200, {
        id: COMPLETION_ID,
        object: 'chat.completion',
        created: CREATED,
        model: replyModel,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage,
      });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let gone = false;
    res.on('close', () => (gone = true));
    const event = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}): void => {
      const chunk = { id: COMPLETION_ID, object: 'chat.completion.chunk', created: CREATED, model: replyModel, choices: [{ index: 0, delta, finish_reason: finish }], ...extra };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    };
    event({ role: 'assistant', content: '' }, null);
    for (const piece of pieces) {
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      if (gone || res.destroyed) return; // the client went away (req is destroyed once its body is read)
      event({ content: piece }, null);
    }
    const so = body.stream_options as { include_usage?: unknown } | undefined;
    event({}, 'stop', so?.include_usage === true ? { usage } : {});
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
        }
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      requests.push({ method, path: url, headers, body, at: Date.now() });
      const path = url.split('?')[0]!.replace(/\/+$/, '');
      if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
        json(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'stub' }] });
      } else if (method === 'GET' && path === '/health') {
        json(res, 200, { status: 'ok' });
      } else if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
        chat(req, res, typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}).catch((err: unknown) => {
          if (!res.headersSent) json(res, 500, { error: { message: String(err), type: 'server_error' } });
          else res.destroy();
        });
      } else if (method === 'POST' && (path === '/v1/embeddings' || path === '/embeddings')) {
        const input = (body as { input?: unknown } | null)?.input;
        const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))) : [];
        json(res, 200, {
          object: 'list',
          data: texts.map((t, index) => ({ object: 'embedding', index, embedding: Array.from({ length: 8 }, (_, k) => ((t.length + k) % 7) / 7) })),
          model,
          usage: { prompt_tokens: 0, total_tokens: 0 },
        });
      } else {
        json(res, 404, { error: { message: `not found: ${method} ${path}`, type: 'invalid_request_error' } });
      }
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    model,
    get words() {
      return state.words;
    },
    set words(n: number) {
      state.words = n;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms: number) {
      state.delayMs = ms;
    },
    requests,
    chats: () => requests.filter((r) => r.method === 'POST' && /\/chat\/completions$/.test(r.path.split('?')[0]!)),
    answerTo: (userMessage: string) => stubAnswer(userMessage, state.words),
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

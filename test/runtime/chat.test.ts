/**
 * Chat with flows through flowreg, against two real DB-GPT 0.8.2 runtimes (docs/runtimes.md):
 * streamed and non-streamed answers equal DB-GPT's own (ids and times aside), on both chat
 * routes; a flow that is not live says why; DB-GPT routes flowreg does not own are forwarded; a
 * runtime killed in the middle of a stream ends it clearly, flowreg keeps serving and the next
 * chat fails over to the other runtime.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { Daemon } from '../../src/daemon/Daemon.ts';
import { describeDbgpt, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody, sseData, streamedContent } from '../helpers/dbgpt/requests.ts';
import { startStubLlm, stubAnswer, type StubLlm } from '../helpers/stubLlm.ts';
import { tempDir } from '../helpers/tmp.ts';
import { resolve } from 'node:path';
import { runPythonScript } from '../helpers/dbgpt/pythonScript.ts';

/** Runs test/runtime/dbgpt_client_chat.py (DB-GPT's Python client) with the venv's python. */
function clientChat(apiBase: string, uid: string, model: string): Promise<{ chat: unknown; stream: unknown }> {
  return runPythonScript(resolve(import.meta.dirname, 'dbgpt_client_chat.py'), [apiBase, uid, model], tempDir('flowreg-client-home-'));
}

const AWEL = '/api/v2/serve/awel';

/** A chat answer without what differs per request: ids and times. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'id' && k !== 'created').map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** The SSE payloads of a stream, parsed and normalized (`[DONE]` kept). */
const chunks = (text: string): unknown[] => sseData(text).map((d) => (d === '[DONE]' ? d : normalize(JSON.parse(d))));

describeDbgpt('chat through flowreg with two real DB-GPT runtimes', () => {
  let llm: StubLlm;
  let a: DbgptServer;
  let b: DbgptServer;
  let daemon: Daemon;
  let url: string;
  const uid = `chat-${randomUUID()}`;
  const draft = `draft-${randomUUID()}`;

  beforeAll(async () => {
    llm = await startStubLlm();
    [a, b] = await Promise.all([startDbgpt({ llmUrl: llm.url }), startDbgpt({ llmUrl: llm.url })]);
    const repo = tempDir('flowreg-chat-');
    const config = loadServeConfig({ flags: { repo, port: '0', logLevel: 'silent', runtimes: `a=${a.url},b=${b.url}`, runtimeInterval: '3600', watch: 'false' }, env: {}, cwd: repo });
    daemon = new Daemon({ config, log: { write: () => undefined } });
    url = (await daemon.start()).url;
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, `chat_${uid.slice(5, 13)}`) })).status).toBe(200);
    expect((await call(url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(draft, `draft_${draft.slice(6, 14)}`, { state: 'developing' }) })).status).toBe(200);
    await daemon.runtimes!.idle();
  }, 300_000);

  afterAll(async () => {
    await daemon?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
    await llm?.close();
  }, 60_000);

  const v2 = (base: string, message: string, stream: boolean, flow = uid) =>
    call(base, 'POST', '/api/v2/chat/completions', { body: { chat_mode: 'chat_flow', chat_param: flow, model: a.model, messages: message, stream, conv_uid: 'conv-1' } });

  it('streams the same chunks as DB-GPT itself, and answers the same without streaming', async () => {
    const direct = await v2(a.url, 'hello stream', true);
    const via = await v2(url, 'hello stream', true);
    expect(via.status).toBe(200);
    expect(via.headers['content-type']).toBe(direct.headers['content-type']);
    expect(streamedContent(via.text)).toBe(stubAnswer('hello stream'));
    expect(chunks(via.text)).toEqual(chunks(direct.text));

    const plainDirect = await v2(a.url, 'hello plain', false);
    const plainVia = await v2(url, 'hello plain', false);
    expect(plainVia.status).toBe(plainDirect.status);
    expect(normalize(plainVia.json)).toEqual(normalize(plainDirect.json));
    expect(JSON.stringify(plainVia.json)).toContain(stubAnswer('hello plain'));
  });

  it("forwards the web UI's /api/v1/chat/completions and routes flowreg does not own", async () => {
    const body = { chat_mode: 'chat_flow', select_param: uid, user_input: 'hello v1', conv_uid: 'conv-v1', model_name: a.model };
    const direct = await call(a.url, 'POST', '/api/v1/chat/completions', { body });
    const via = await call(url, 'POST', '/api/v1/chat/completions', { body });
    expect(via.status).toBe(200);
    expect(chunks(via.text)).toEqual(chunks(direct.text));
    expect(via.text).toContain('hello v1');

    const types = await call(url, 'GET', '/api/v1/model/types');
    expect(types.json).toEqual((await call(a.url, 'GET', '/api/v1/model/types')).json);
    expect(JSON.stringify(types.json)).toContain(a.model);
    for (const path of ['/api/v1/chat/dialogue/list', `${AWEL}/variables/keys`]) {
      const [mine, theirs] = [await call(url, 'GET', path), await call(a.url, 'GET', path)];
      expect(mine.status, path).toBe(theirs.status);
      expect(normalize(mine.json), path).toEqual(normalize(theirs.json));
    }
    const nodes = await call(url, 'GET', `${AWEL}/nodes`);
    expect(nodes.status).toBe(200);
    expect(normalize(nodes.json)).toEqual(normalize((await call(a.url, 'GET', `${AWEL}/nodes`)).json));
  });

  it('chats through flowreg with the real dbgpt_client (chat and chat_stream), as with DB-GPT itself', async () => {
    const [direct, via] = await Promise.all([clientChat(`${a.url}/api/v2`, uid, a.model), clientChat(`${url}/api/v2`, uid, a.model)]);
    expect(via).toEqual(direct);
    expect(via.chat).toBe(stubAnswer('hello from dbgpt_client'));
    expect((via.stream as string[]).join('')).toBe(stubAnswer('stream from dbgpt_client'));
  });

  it('says why a flow cannot be chatted with: unknown, or not live on any runtime', async () => {
    const unknown = `nope-${randomUUID()}`;
    const u = await v2(url, 'x', false, unknown);
    expect(u.status).toBe(400);
    expect(u.json).toEqual({ object: 'error', message: `Flow ${unknown} not found`, code: 1 });
    const d = await v2(url, 'x', false, draft);
    expect(d.status).toBe(400);
    expect((d.json as { message: string }).message).toMatch(new RegExp(`^Flow ${draft} is not live on any runtime: its state is "developing"`));
    const streamed = await v2(url, 'x', true, draft);
    expect(streamed.status).toBe(200);
    const parts = sseData(streamed.text);
    expect(parts.at(-1)).toBe('[DONE]');
    expect(streamed.text).toContain('is not live on any runtime');
  });

  it('ends a stream clearly when its runtime dies in the middle, keeps serving, and fails over to the other runtime', async () => {
    llm.delayMs = 40;
    llm.words = 200;
    try {
      // the first runtime where the flow is live takes the chat: a
      const res = await fetch(`${url}/api/v2/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_mode: 'chat_flow', chat_param: uid, model: a.model, messages: 'long one', stream: true }),
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('word3')) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended early: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
      const answeredBy = llm.chats().length;
      expect(answeredBy).toBeGreaterThan(0);
      await a.kill9();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const parts = sseData(text);
      expect(parts.at(-1)).toBe('[DONE]');
      const last = JSON.parse(parts.at(-2)!) as { error_code?: number; text?: string };
      expect(last.error_code).toBe(1);
      expect(last.text).toBe('a closed the stream: the runtime stopped answering before the answer was complete');
      expect(streamedContent(parts.slice(0, -2).map((p) => `data: ${p}\n\n`).join(''))).not.toContain('word200');

      // flowreg still serves, and the next chat goes to b
      expect((await call(url, 'GET', `${AWEL}/flows/${uid}`)).status).toBe(200);
      llm.delayMs = 0;
      llm.words = 0;
      const again = await v2(url, 'after the crash', true);
      expect(again.status).toBe(200);
      expect(streamedContent(again.text)).toBe(stubAnswer('after the crash'));
      const report = (await call(url, 'GET', `${AWEL}/runtimes`)).json as { data: { runtimes: Array<{ name: string; up: boolean }> } };
      expect(report.data.runtimes.find((r) => r.name === 'a')?.up).toBe(false);
    } finally {
      llm.delayMs = 0;
      llm.words = 0;
    }
  });
});

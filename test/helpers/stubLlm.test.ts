import { afterEach, describe, expect, it } from 'vitest';
import { sseData } from './dbgpt/requests.ts';
import { startStubLlm, stubAnswer, type StubLlm } from './stubLlm.ts';

describe('the stub LLM (OpenAI-compatible, deterministic)', () => {
  let llm: StubLlm | undefined;
  afterEach(async () => {
    await llm?.close();
    llm = undefined;
  });

  const post = (path: string, body: unknown) => fetch(`${llm!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const messages = [
    { role: 'system', content: 'You are a helpful AI assistant.' },
    { role: 'user', content: 'first' },
    { role: 'assistant', content: 'STUB-ANSWER to: first' },
    { role: 'user', content: 'hello there' },
  ];

  it('answers the last user message, as JSON', async () => {
    llm = await startStubLlm();
    expect(llm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const res = await post('/chat/completions', { model: 'stub-model', messages });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; model: string; choices: Array<{ message: { role: string; content: string }; finish_reason: string }> };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: 'STUB-ANSWER to: hello there' }, finish_reason: 'stop' });
    expect(llm.chats()).toHaveLength(1);
    expect(llm.chats()[0]!.body).toMatchObject({ model: 'stub-model', messages });
  });

  it('streams it word by word: role chunk, one chunk per word, stop chunk, [DONE]', async () => {
    llm = await startStubLlm();
    const res = await post('/chat/completions', { model: 'stub-model', messages, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: Array<{ delta: Record<string, string>; finish_reason: string | null }>; usage?: unknown });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.slice(1, -1).map((c) => c.choices[0]!.delta.content)).toEqual(['STUB-ANSWER', ' to:', ' hello', ' there']);
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
  });

  it('words and delayMs change while it runs', async () => {
    llm = await startStubLlm();
    llm.words = 3;
    llm.delayMs = 40;
    expect(llm.answerTo('x')).toBe('STUB-ANSWER to: x word1 word2 word3');
    expect(stubAnswer('x', 3)).toBe(llm.answerTo('x'));
    const t0 = Date.now();
    const res = await post('/chat/completions', { messages: [{ role: 'user', content: 'x' }], stream: true });
    const content = sseData(await res.text())
      .filter((d) => d !== '[DONE]')
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content ?? '')
      .join('');
    expect(content).toBe('STUB-ANSWER to: x word1 word2 word3');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(6 * 40 - 10);
  });

  it('lists its model, embeds, records every request; close() ends a stream in progress', async () => {
    llm = await startStubLlm({ model: 'm1', delayMs: 1000 });
    expect(await (await fetch(`${llm.url}/models`)).json()).toEqual({ object: 'list', data: [{ id: 'm1', object: 'model', created: 0, owned_by: 'stub' }] });
    const emb = (await (await post('/embeddings', { input: ['a', 'bb'] })).json()) as { data: Array<{ embedding: number[] }> };
    expect(emb.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect((await fetch(`${llm.url}/nope`)).status).toBe(404);
    const streaming = await post('/chat/completions', { messages, stream: true });
    const reading = streaming.text().then(
      () => 'ended',
      () => 'aborted',
    );
    await llm.close();
    expect(['ended', 'aborted']).toContain(await reading);
    expect(llm.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models', 'POST /v1/embeddings', 'GET /v1/nope', 'POST /v1/chat/completions']);
    llm = undefined;
  });
});

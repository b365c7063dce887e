import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { smallFlow } from '../helpers/flows.ts';
import { expectFailure, harness } from './harness.ts';

const files = { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) };
const CHAT = '/api/v2/chat/completions';
const base = { model: 'gpt-4o', messages: 'Introduce AWEL', chat_mode: 'chat_flow' };

describe('POST /api/v2/chat/completions', () => {
  it('answers DB-GPT\'s ErrorResponse: flowreg stores flows, it does not run them', async () => {
    const h = await harness({ files });
    const known = await request(h.app).post(CHAT).send({ ...base, chat_param: 'u-1' });
    expect(known.status).toBe(400);
    expect(known.body).toEqual({ object: 'error', message: expect.stringMatching(/^Flow u-1's dag id not found: flowreg stores and versions flows/), code: 1 });
    const unknown = await request(h.app).post(CHAT).send({ ...base, chat_param: 'nope' });
    expect([unknown.status, unknown.body]).toEqual([400, { object: 'error', message: 'Flow nope not found', code: 1 }]);
    const noParam = await request(h.app).post(CHAT).send(base);
    expect(noParam.body.message).toMatch(/invalid_chat_param/);
    const badMode = await request(h.app).post(CHAT).send({ ...base, chat_mode: 'chat_magic', chat_param: 'u-1' });
    expect(badMode.body.message).toMatch(/invalid_chat_mode/);
  });

  it('streams the error as dbgpt_client.chat_stream parses it: role chunk, error object, [DONE]', async () => {
    const h = await harness({ files });
    const res = await request(h.app).post(CHAT).send({ ...base, chat_param: 'u-1', stream: true, conv_uid: 'c-1' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const frames = res.text.split('\n\n').filter((f) => f !== '');
    expect(frames).toHaveLength(3);
    expect(JSON.parse((frames[0] as string).slice(6))).toEqual({ id: 'c-1', model: 'gpt-4o', choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    expect(JSON.parse((frames[1] as string).slice(6))).toMatchObject({ error_code: 1, text: expect.stringMatching(/dag id not found/) });
    expect(frames[2]).toBe('data: [DONE]');
  });

  it('validates the request in DB-GPT\'s envelope (400 E0001)', async () => {
    const h = await harness({ files });
    const res = await request(h.app).post(CHAT).send({ messages: 'hi', chat_mode: 'chat_flow', chat_param: 'u-1' });
    expect(res.status).toBe(400);
    expect(expectFailure(res.body, 'E0001')).toBe('body.model:Field required;');
  });
});

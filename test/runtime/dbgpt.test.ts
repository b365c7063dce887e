/**
 * Smoke test of the real DB-GPT 0.8.2 the runtime tests run against (test/helpers/dbgpt/): the
 * corpus simple streaming chat flow, created with our own uid and `state: deployed`, runs and
 * answers through `/api/v2/chat/completions` with the stub LLM's deterministic answer; an
 * unknown operator is refused; kill -9 and restart keep the flow running.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { dbgptVenvDir, describeDbgpt, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody, sseData, streamedContent } from '../helpers/dbgpt/requests.ts';
import { startStubLlm, stubAnswer, type StubLlm } from '../helpers/stubLlm.ts';

const AWEL = '/api/v2/serve/awel';

describeDbgpt('a real DB-GPT 0.8.2 (headless, SQLite, stub LLM)', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  const uid = `flowreg-smoke-${randomUUID()}`;

  beforeAll(async () => {
    llm = await startStubLlm();
    db = await startDbgpt({ llmUrl: llm.url });
    console.info(`DB-GPT ready on ${db.url} after ${db.startSeconds.toFixed(1)} s`);
  }, 240_000);

  afterAll(async () => {
    await db?.stop();
    await llm?.close();
  }, 60_000);

  const chat = (message: string, stream: boolean) =>
    call(db.url, 'POST', '/api/v2/chat/completions', {
      body: { chat_mode: 'chat_flow', chat_param: uid, model: db.model, messages: message, stream, conv_uid: randomUUID() },
    });

  it('runs the DB-GPT of the venv test/globalSetup.ts provided', () => {
    expect(inject('dbgptVenv')).toBe(dbgptVenvDir());
    expect(db.url).toBe(`http://127.0.0.1:${db.port}`);
  });

  it('creates the corpus simple streaming chat flow with our uid, deployed, and runs it', async () => {
    const created = await call(db.url, 'POST', `${AWEL}/flows`, { body: simpleChatBody(uid, 'smoke_simple_chat') });
    expect(created.status, created.text).toBe(200);
    const c = created.json as { success: boolean; data: Record<string, unknown> };
    expect(c.success).toBe(true);
    expect(c.data.uid).toBe(uid);
    expect(c.data.state).toBe('deployed'); // the row as inserted; GET shows the registered DAG
    expect(c.data.dag_id).toBe(`flow_dag_smoke_simple_chat_${uid}`);

    const got = await call(db.url, 'GET', `${AWEL}/flows/${uid}`);
    expect(got.status).toBe(200);
    const g = got.json as { data: Record<string, unknown> };
    expect(g.data.state).toBe('running');
    expect(g.data.metadata).not.toBeNull();
    const meta = g.data.metadata as { triggers: Array<{ path: string }> };
    expect(meta.triggers[0]?.path).toBe(`/api/v1/awel/trigger/example/flow_dag_smoke_simple_chat_${uid}`);
  });

  it('chats through /api/v2/chat/completions: the stub answer, streamed and not', async () => {
    const streamed = await chat('hello stream', true);
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sseData(streamed.text).at(-1)).toBe('[DONE]');
    expect(streamedContent(streamed.text)).toBe(stubAnswer('hello stream'));

    const plain = await chat('hello json', false);
    expect(plain.status, plain.text).toBe(200);
    const p = plain.json as { object: string; choices: Array<{ message: { content: string } }> };
    expect(p.object).toBe('chat.completion');
    expect(p.choices[0]?.message.content).toBe(stubAnswer('hello json'));

    // One LLM call per chat, streaming, with the user's message last.
    const sent = llm.chats().map((r) => r.body as { stream: boolean; messages: Array<{ role: string; content: string }> });
    expect(sent.map((b) => b.messages.at(-1)?.content)).toEqual(['hello stream', 'hello json']);
    expect(sent.every((b) => b.stream)).toBe(true);
  });

  it('refuses a flow with an unknown operator: 400 E0003, nothing stored', async () => {
    const badUid = `flowreg-smoke-bad-${randomUUID()}`;
    const body = simpleChatBody(badUid, 'smoke_bad_operator');
    const fd = body.flow_data as { nodes: Array<{ data: { name: string } }> };
    // DB-GPT finds operators by data.name/category/version (not type_cls): change the name.
    fd.nodes[1]!.data.name = 'no_such_operator';
    const res = await call(db.url, 'POST', `${AWEL}/flows`, { body });
    expect(res.status).toBe(400);
    const b = res.json as { success: boolean; err_code: string; err_msg: string };
    expect(b.success).toBe(false);
    expect(b.err_code).toBe('E0003');
    expect(b.err_msg).toContain('no_such_operator');
    expect(b.err_msg).toContain('not registered');
    expect((await call(db.url, 'GET', `${AWEL}/flows/${badUid}`)).status).toBe(404);
  });

  it('kill -9 leaves no process; restart on the same DB runs the flow again', async () => {
    const pgid = db.pgid!;
    await db.kill9();
    expect(() => process.kill(-pgid, 0)).toThrow(); // the group (dbgpt, its lyric worker, the watchdog) is gone
    await db.restart();
    const got = await call(db.url, 'GET', `${AWEL}/flows/${uid}`);
    expect((got.json as { data: { state: string; metadata: unknown } }).data).toMatchObject({ state: 'running', metadata: expect.anything() });
    const plain = await chat('after restart', false);
    expect(plain.status, plain.text).toBe(200);
    expect((plain.json as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe(stubAnswer('after restart'));
  }, 240_000);
});

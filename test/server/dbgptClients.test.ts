import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { corpusFlow, smallFlow } from '../helpers/flows.ts';
import { git } from '../helpers/tmp.ts';
import { commitCount, expectFailure, expectFlowPanel, FLOW_KEYS, harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';
const V1 = '/api/v1/serve/awel';

/** The body dbgpt_client's create_flow sends: `FlowPanel.to_dict()`, every field, nulls included, a client uuid4. */
function clientBody(name: string): Record<string, unknown> {
  const t = corpusFlow('chat-data-awel-flow-template.json');
  return {
    uid: randomUUID(),
    label: 'Client flow',
    name,
    flow_category: null,
    flow_data: t.flow_data,
    description: 'made by dbgpt_client',
    state: 'initializing',
    error_message: null,
    source: 'DBGPT-WEB',
    source_url: null,
    version: '0.1.1',
    define_type: 'json',
    editable: true,
    user_name: null,
    sys_code: null,
    dag_id: null,
    gmt_created: null,
    gmt_modified: null,
    metadata: null,
    variables: null,
    authors: null,
  };
}

describe('dbgpt_client requests, replayed', () => {
  it('create_flow, update_flow, list_flow(name=…), get_flow, delete_flow', async () => {
    const h = await harness();
    const base = await commitCount(h.repo);
    const body = clientBody('client_flow');
    const uid = body.uid as string;

    const created = await request(h.app).post(`${V2}/flows`).send(body).expect(200);
    expect(Object.keys(created.body)).toEqual(['success', 'err_code', 'err_msg', 'data']);
    expect(created.body.success).toBe(true);
    expect(created.body.err_code).toBeNull();
    expect(created.body.err_msg).toBeNull();
    const flow = created.body.data;
    expectFlowPanel(flow);
    expect(flow.uid).toBe(uid);
    expect(flow.name).toBe('client_flow');
    expect(flow.dag_id).toBe(`flow_dag_client_flow_${uid}`);
    expect(flow.flow_category).toBe('chat_flow'); // recomputed from the graph, as DB-GPT does
    expect(flow.flow_data).toEqual(body.flow_data);
    const head1 = git(h.repo, ['rev-parse', 'HEAD']);
    expect(flow.version).toBe(head1);
    expect(created.headers.etag).toBe(`"${head1}"`);
    expect(await commitCount(h.repo)).toBe(base + 1);
    expect(git(h.repo, ['show', '--name-only', '--format=%s', 'HEAD']).split('\n')).toEqual([`create flow client_flow (${uid})`, '', 'flows/client_flow.yaml']);
    expect(git(h.repo, ['log', '-1', '--format=%an <%ae>'])).toBe('flowreg-api <flowreg-api@flowreg>');

    // update_flow(client, flow): the FlowPanel it got back, edited, to_dict() again (version = the commit it read)
    const edited = { ...flow, description: 'edited by dbgpt_client' };
    const updated = await request(h.app).put(`${V2}/flows/${uid}`).send(edited).expect(200);
    expect(updated.body.success).toBe(true);
    expectFlowPanel(updated.body.data);
    expect(updated.body.data.description).toBe('edited by dbgpt_client');
    const head2 = git(h.repo, ['rev-parse', 'HEAD']);
    expect(head2).not.toBe(head1);
    expect(updated.body.data.version).toBe(head2);
    expect(updated.headers.etag).toBe(`"${head2}"`);
    expect(await commitCount(h.repo)).toBe(base + 2);

    // list_flow(client, name="client_flow"): exactly one item
    const listed = await request(h.app).get(`${V2}/flows`).query({ name: 'client_flow' }).expect(200);
    expect(Object.keys(listed.body.data)).toEqual(['items', 'total_count', 'total_pages', 'page', 'page_size']);
    expect(listed.body.data).toMatchObject({ total_count: 1, total_pages: 1, page: 1, page_size: 20 });
    expect(listed.body.data.items).toHaveLength(1);
    expectFlowPanel(listed.body.data.items[0]);
    expect(listed.body.data.items[0].uid).toBe(uid);
    expect((await request(h.app).get(`${V2}/flows`).query({ uid }).expect(200)).body.data.total_count).toBe(1);
    expect((await request(h.app).get(`${V2}/flows`).query({ name: 'nope' }).expect(200)).body.data).toEqual({ items: [], total_count: 0, total_pages: 0, page: 1, page_size: 20 });

    // get_flow(client, uid): every key in GET order, ETag = version
    const got = await request(h.app).get(`${V2}/flows/${uid}`).expect(200);
    expect(Object.keys(got.body.data)).toEqual(FLOW_KEYS);
    expectFlowPanel(got.body.data);
    expect(got.body.data.version).toBe(head2);
    expect(got.headers.etag).toBe(`"${head2}"`);
    expect(got.headers['content-type']).toBe('application/json; charset=utf-8');

    // delete_flow(client, uid): the deleted flow, one commit removing the file
    const deleted = await request(h.app).delete(`${V2}/flows/${uid}`).expect(200);
    expect(deleted.body.success).toBe(true);
    expectFlowPanel(deleted.body.data);
    expect(deleted.body.data.uid).toBe(uid);
    expect(await commitCount(h.repo)).toBe(base + 3);
    expect(git(h.repo, ['show', '--name-status', '--format=%s', 'HEAD']).split('\n')).toEqual([`delete flow client_flow (${uid})`, '', 'D\tflows/client_flow.yaml']);

    const gone = await request(h.app).get(`${V2}/flows/${uid}`).expect(404);
    expect(gone.body).toEqual({ success: false, err_code: '404', err_msg: `Flow ${uid} not found`, data: null });
  });

  it('answers a create the client cannot parse into a FlowPanel with a failure it reports (duplicate uid)', async () => {
    const h = await harness();
    const body = clientBody('first');
    await request(h.app).post(`${V2}/flows`).send(body).expect(200);
    const again = await request(h.app).post(`${V2}/flows`).send({ ...body, name: 'second' }).expect(409);
    expect(expectFailure(again.body, '409')).toMatch(new RegExp(`uid ${body.uid as string} already exists`));
  });
});

describe("DB-GPT web UI requests, replayed", () => {
  it('addFlow without uid (deployed), getFlows page_size=12, update, copy, delete', async () => {
    const h = await harness();
    const base = await commitCount(h.repo);
    const t = corpusFlow('rag-chat-awel-flow-template.json');
    const add = { name: 'ui_flow', label: 'UI flow', description: 'from the canvas', editable: true, flow_data: t.flow_data, state: 'deployed', variables: [] };
    const created = await request(h.app).post(`${V2}/flows`).set('user-id', '001').send(add).expect(200);
    expect(created.body.success).toBe(true);
    const flow = created.body.data;
    expectFlowPanel(flow);
    expect(flow.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(flow.state).toBe('deployed');
    expect(flow.source).toBe('DBGPT-WEB');
    expect(flow.define_type).toBe('json');

    const page = await request(h.app).get(`${V2}/flows`).query({ page: 1, page_size: 12 }).expect(200);
    const data = page.body.data;
    expect(data).toMatchObject({ page: 1, page_size: 12, total_count: 1, total_pages: 1 });
    const item = data.items[0];
    for (const key of ['uid', 'name', 'label', 'description', 'define_type', 'source', 'editable', 'state', 'gmt_modified']) expect(item).toHaveProperty(key);
    expect(item).toMatchObject({ uid: flow.uid, name: 'ui_flow', label: 'UI flow', define_type: 'json', source: 'DBGPT-WEB', editable: true, state: 'deployed' });
    expect(typeof item.gmt_modified).toBe('string');

    // updateFlowById: the same fields plus uid
    const upd = await request(h.app).put(`${V2}/flows/${flow.uid}`).send({ ...add, uid: flow.uid, description: 'saved again', state: 'developing' }).expect(200);
    expect(upd.body.data).toMatchObject({ uid: flow.uid, description: 'saved again', state: 'developing' });

    // copy: the list item minus source/uid/dag_id/gmt_*/state, with the new name and label the modal asks for
    const { source: _s, uid: _u, dag_id: _d, gmt_created: _c, gmt_modified: _m, state: _st, ...rest } = item as Record<string, unknown>;
    const copied = await request(h.app).post(`${V2}/flows`).send({ ...rest, name: 'ui_flow_copy', label: 'UI flow copy', state: 'developing' }).expect(200);
    expectFlowPanel(copied.body.data);
    expect(copied.body.data.uid).not.toBe(flow.uid);
    expect(copied.body.data.dag_id).toBe(`flow_dag_ui_flow_copy_${copied.body.data.uid as string}`);
    expect(copied.body.data.flow_data).toEqual(t.flow_data);

    const del = await request(h.app).delete(`${V2}/flows/${copied.body.data.uid as string}`).expect(200);
    expect(del.body.success).toBe(true);
    expect(await commitCount(h.repo)).toBe(base + 4);
    const after = await request(h.app).get(`${V2}/flows`).query({ page: 1, page_size: 12 }).expect(200);
    expect(after.body.data.items.map((f: { name: string }) => f.name)).toEqual(['ui_flow']);
  });

  it('serves the canvas helpers: nodes, node refresh, variables, templates', async () => {
    const h = await harness();
    const t = corpusFlow('simple_streaming_chat_flow.json');
    await request(h.app).post(`${V2}/flows`).send({ ...t, uid: undefined, name: 'stream_chat' }).expect(200);
    await request(h.app).post(`${V2}/flows`).send(smallFlow('plain-1', 'plain_flow')).expect(200);
    // /chat/flows applies the category filter DB-GPT means (its DAO silently drops it)
    const all = await request(h.app).get(`${V2}/flows`).expect(200);
    expect(all.body.data.items.map((f: { name: string; flow_category: string }) => `${f.name}:${f.flow_category}`).sort()).toEqual(['plain_flow:common', 'stream_chat:chat_flow']);
    const chat = await request(h.app).get(`${V2}/chat/flows`).expect(200);
    expect(chat.body.data).toMatchObject({ total_count: 1, total_pages: 1, page: 1, page_size: 20 });
    expect(chat.body.data.items.map((f: { name: string }) => f.name)).toEqual(['stream_chat']);
    expect((await request(h.app).get(`${V1}/chat/flows`).query({ name: 'plain_flow' }).expect(200)).body.data.total_count).toBe(0);
    const nodes = await request(h.app).get(`${V2}/nodes`).expect(200);
    expect(nodes.body.success).toBe(true);
    const ids = (nodes.body.data as Array<{ id: string }>).map((n) => n.id);
    const nodeIds = (t.flow_data as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id.replace(/_\d+$/, ''));
    // the nodes of both flows, by origin id (the node id without its _<n> suffix)
    expect(ids.sort()).toEqual([...new Set([...nodeIds, 'operator_a', 'operator_b'])].sort());
    const one = await request(h.app).post(`${V2}/nodes/refresh`).send({ id: ids[0], flow_type: 'operator', type_name: 'x', type_cls: 'y', refresh: [] }).expect(200);
    expect(one.body.data.id).toBe(ids[0]);
    expect((await request(h.app).get(`${V2}/variables/keys`).expect(200)).body).toEqual({ success: true, err_code: null, err_msg: null, data: [] });
    expect((await request(h.app).get(`${V2}/variables`).query({ key: 'dbgpt.model.name', page_size: 5 }).expect(200)).body.data).toEqual({ items: [], total_count: 0, total_pages: 0, page: 1, page_size: 5 });
    const templates = await request(h.app).get(`${V2}/flow/templates`).expect(200);
    // no templates folder in the repository: flowreg's built-in ones, DB-GPT's English templates
    expect(templates.body.data).toMatchObject({ total_count: 5, total_pages: 1, page: 1, page_size: 20 });
  });
});

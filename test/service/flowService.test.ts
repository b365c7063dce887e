import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code } from '../helpers/errors.ts';
import { formatFlow } from '../../src/core/formatFlow.ts';
import type { FlowService } from '../../src/service/FlowService.ts';
import { openService } from '../helpers/openService.ts';
import { corpusFiles, corpusFlow, smallFlow } from '../helpers/flows.ts';
import { git, tempRepo } from '../helpers/tmp.ts';

const caller = { name: 'Bob', email: 'bob@example.com' };

async function service(dir = tempRepo()): Promise<FlowService> {
  return (await openService(dir)).svc;
}

describe('FlowService', () => {
  it('creates like DB-GPT: generated uid, label/name filled, dag_id and flow_category set, all keys served', async () => {
    const dir = tempRepo();
    const svc = await service(dir);
    const body = { ...corpusFlow('simple_streaming_chat_flow.json') };
    delete body.uid;
    delete body.dag_id;
    body.name = 'my_chat';
    body.flow_category = 'common';
    const out = await svc.create(body, caller);
    const f = out.flow;
    expect(f.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(f.name).toBe('my_chat');
    expect(f.dag_id).toBe(`flow_dag_my_chat_${f.uid}`);
    expect(f.flow_category).toBe('chat_flow');
    expect(f.version).toBe(git(dir, ['rev-parse', 'HEAD']));
    expect(out.commit).toBe(f.version);
    expect(Object.keys(f)).toEqual(['uid', 'label', 'name', 'flow_category', 'description', 'state', 'error_message', 'source', 'source_url', 'version', 'define_type', 'editable', 'user_name', 'sys_code', 'dag_id', 'gmt_created', 'gmt_modified', 'metadata', 'variables', 'authors', 'flow_data']);
    expect(f.metadata).toBeNull();
    expect(f.gmt_created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(f.flow_data).toEqual(corpusFlow('simple_streaming_chat_flow.json').flow_data);
    expect(git(dir, ['log', '-1', '--format=%an <%ae> %s'])).toBe(`Bob <bob@example.com> create flow my_chat (${f.uid})`);
    // label only: the name comes from it
    const byLabel = await svc.create({ label: 'From Label', flow_data: smallFlow('x', 'x').flow_data }, caller);
    expect(byLabel.flow.name).toBe('From_Label');
    // a dag_id the request supplies is kept, as DB-GPT does
    expect((await svc.create({ ...body, uid: 'with-dag', name: 'with_dag', dag_id: 'flow_dag_given' }, caller)).flow.dag_id).toBe('flow_dag_given');
    expect(await code(svc.create({ ...body, uid: f.uid, name: 'other' }, caller))).toBe('FLOW_EXISTS');
    expect(await code(svc.create({ ...body, uid: 'fresh' }, caller))).toBe('NAME_TAKEN');
    expect(await code(svc.create({ description: 'no label or name' }, caller))).toBe('FLOW_INVALID');
    expect(await code(svc.create([], caller))).toBe('INVALID_INPUT');
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('3');
  });

  it('updates with the body uid, renames, clears fields, honours If-Match and body version, refuses non-editable flows', async () => {
    const dir = tempRepo();
    const svc = await service(dir);
    const created = await svc.create(smallFlow('u-1', 'one', { user_name: 'alice' }), caller);
    const v1 = created.version;
    const up = await svc.update('ignored-path-uid', { uid: 'u-1', name: 'one_renamed', description: null, version: v1 }, caller);
    expect(up.flow.name).toBe('one_renamed');
    expect(up.flow.description).toBeNull();
    expect(up.flow.user_name).toBe('alice');
    expect(up.version).not.toBe(v1);
    expect(git(dir, ['ls-files', 'flows'])).toBe('flows/one_renamed.yaml');
    expect(up.flow.dag_id).toBe(created.flow.dag_id);
    expect(up.flow.gmt_created).toBe(created.flow.gmt_created);
    expect(await code(svc.update('u-1', { uid: 'u-1', label: 'stale', version: v1 }, caller))).toBe('VERSION_CONFLICT');
    expect(await code(svc.update('u-1', { label: 'stale' }, caller, { ifMatch: `"${v1}"` }))).toBe('PRECONDITION_FAILED');
    expect((await svc.update('u-1', { label: 'fresh' }, caller, { ifMatch: `"${up.version}"` })).flow.label).toBe('fresh');
    expect(await code(svc.update('nope', { label: 'x' }, caller))).toBe('FLOW_NOT_FOUND');
    await svc.update('u-1', { editable: false }, caller);
    expect(await code(svc.update('u-1', { label: 'locked' }, caller))).toBe('FLOW_NOT_EDITABLE');
    expect(await code(svc.update('u-1', { flow_data: { nodes: 'x' } }, caller))).toBe('FLOW_NOT_EDITABLE');
    expect(git(dir, ['rev-list', '--count', 'HEAD'])).toBe('4');
  });

  it('lists newest first with exact filters and pages, and /chat/flows categories', async () => {
    let t = Date.parse('2026-02-01T00:00:00Z');
    const { svc } = await openService(tempRepo(), { now: () => (t += 60_000) });
    for (let i = 0; i < 5; i++) await svc.create(smallFlow(`u-${i}`, `f${i}`, { sys_code: i % 2 ? 'odd' : 'even' }), caller);
    await svc.create({ ...corpusFlow('simple_streaming_chat_flow.json'), uid: 'chat-1' }, caller);
    const page1 = await svc.list({}, 1, 4);
    expect(page1.items.map((f) => f.uid)).toEqual(['chat-1', 'u-4', 'u-3', 'u-2']);
    expect([page1.total_count, page1.total_pages, page1.page, page1.page_size]).toEqual([6, 2, 1, 4]);
    expect((await svc.list({}, 2, 4)).items.map((f) => f.uid)).toEqual(['u-1', 'u-0']);
    expect((await svc.list({ sys_code: 'odd' }, 1, 20)).items.map((f) => f.uid)).toEqual(['u-3', 'u-1']);
    expect((await svc.list({ name: 'f2' }, 1, 20)).items.map((f) => f.uid)).toEqual(['u-2']);
    expect((await svc.list({ user_name: '' }, 1, 20)).total_count).toBe(0);
    expect((await svc.list({ categories: ['chat_flow', 'chat_agent'] }, 1, 20)).items.map((f) => f.uid)).toEqual(['chat-1']);
    expect(await code(svc.list({}, 1, 0))).toBe('INVALID_INPUT');
    expect(await code(svc.list({}, 0, 20))).toBe('INVALID_INPUT');
  });

  it('deletes, lists versions, reads old versions, reverts and undeletes', async () => {
    const dir = tempRepo();
    const svc = await service(dir);
    const c = await svc.create(smallFlow('u-1', 'one'), caller);
    const u = await svc.update('u-1', { label: 'second' }, caller);
    const versions = await svc.versions('u-1', 1, 20);
    expect(versions.items.map((v) => v.version)).toEqual([u.version, c.version]);
    expect(versions.items[0]?.author).toBe('Bob');
    expect((await svc.getAt('u-1', c.version)).flow.label).toBe('one');
    const r = await svc.revert('u-1', c.version, caller);
    expect(r.flow.label).toBe('one');
    expect(git(dir, ['log', '-1', '--format=%s'])).toBe('revert flow one (u-1)');
    const d = await svc.delete('u-1', caller);
    expect(d.flow.label).toBe('one');
    expect(await code(svc.get('u-1'))).toBe('FLOW_NOT_FOUND');
    expect(await code(svc.delete('u-1', caller))).toBe('FLOW_NOT_FOUND');
    const back = await svc.revert('u-1', u.version, caller);
    expect(back.flow.label).toBe('second');
    const diff = await svc.diff('u-1', c.version, u.version);
    expect(JSON.stringify(diff)).toContain('second');
  });

  it('quarantines a file that turns invalid: last valid content served as load_failed with file:line:col, fix clears it', async () => {
    const dir = tempRepo();
    const { store, svc } = await openService(dir);
    await svc.create(smallFlow('u-1', 'one'), caller);
    await svc.create(smallFlow('u-2', 'two'), caller);
    const path = join(dir, 'flows/one.yaml');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('target: operator_b_0\n', 'target: operator_missing\n'));
    await store.refresh();
    const bad = (await svc.get('u-1')).flow;
    expect(bad.state).toBe('load_failed');
    expect(bad.error_message).toMatch(/flows\/one\.yaml:\d+:\d+ EDGE_TARGET_MISSING/);
    expect(JSON.stringify(bad.flow_data)).toContain('"target":"operator_b_0"');
    expect((await svc.get('u-2')).flow.state).toBe('initializing');
    expect(svc.stats()).toEqual({ flows: 2, invalid: 1 });
    writeFileSync(path, good);
    await store.refresh();
    expect((await svc.get('u-1')).flow.state).toBe('initializing');
    expect(svc.stats()).toEqual({ flows: 2, invalid: 0 });
    // a new invalid file is listed as load_failed
    mkdirSync(join(dir, 'flows'), { recursive: true });
    writeFileSync(join(dir, 'flows/broken.yaml'), 'uid: u-3\nname: broken\nlabel: [unclosed\n');
    await store.refresh();
    const listed = (await svc.list({}, 1, 20)).items.find((f) => f.name === 'broken');
    expect(listed?.state).toBe('load_failed');
  });

  it('exports, imports like DB-GPT, serves templates with fresh uids, and catalogues nodes', async () => {
    const dir = tempRepo();
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates/simple.json'), JSON.stringify({ flow: corpusFlow('simple_streaming_chat_flow.json') }));
    const svc = await service(dir);
    const exp = { flow: corpusFlow('rag-chat-awel-flow-template.json') };
    const parsed = await svc.importFlow(exp, false, caller);
    expect(parsed.uid).not.toBe(exp.flow.uid);
    expect([parsed.editable, parsed.state, parsed.dag_id]).toEqual([false, 'initializing', null]);
    expect(git(dir, ['rev-list', '--all', '--count'])).toBe('0');
    const saved = await svc.importFlow(exp, true, caller);
    expect((await svc.exportFlow(String(saved.uid))).flow.flow_data).toEqual(exp.flow.flow_data);
    expect(await code(svc.importFlow({ nope: 1 }, false, caller))).toBe('INVALID_INPUT');
    const t1 = await svc.templates(1, 20);
    const t2 = await svc.templates(1, 20);
    expect(t1.total_count).toBe(1);
    expect(t1.items[0]?.uid).not.toBe(t2.items[0]?.uid);
    const nodes = await svc.nodes();
    expect(nodes.length).toBeGreaterThan(3);
    expect(nodes.every((n) => typeof n.id === 'string' && !/_\d+$/.test(n.id as string))).toBe(true);
    const one = String(nodes[0]?.id);
    expect((await svc.node(`${one}_0`)).id).toBe(one);
  });

  it('serves every corpus flow round-trip through create and get', async () => {
    const svc = await service();
    const seen = new Set<string>();
    for (const name of corpusFiles()) {
      const flow = corpusFlow(name);
      if (seen.has(flow.uid as string)) continue;
      seen.add(flow.uid as string);
      const out = await svc.create(flow, caller);
      expect(out.flow.flow_data).toEqual(flow.flow_data);
      expect(out.flow.uid).toBe(flow.uid);
    }
    expect(svc.stats()).toEqual({ flows: 5, invalid: 0 });
  });
  it('never lets a full re-read that finished late overwrite a write it overlapped', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`flows/f${i}.yaml`] = formatFlow(smallFlow(`u-${i}`, `f${i}`), { schemaRef: '../schemas/flow.schema.json' });
    const dir = tempRepo(files);
    const { store, svc } = await openService(dir);
    for (let trial = 0; trial < 5; trial++) {
      // uncommitted edits: the re-read has to read each of these files again, yielding each time
      for (let i = 1; i < 150; i++) writeFileSync(join(dir, `flows/f${i}.yaml`), formatFlow(smallFlow(`u-${i}`, `f${i}`, { label: `edited ${trial}` }), { schemaRef: '../schemas/flow.schema.json' }));
      const label = `written ${trial}`;
      await Promise.all([store.refresh(), svc.update('u-0', { uid: 'u-0', label }, caller)]);
      expect((await svc.get('u-0')).flow.label).toBe(label);
      expect((await svc.get('u-7')).flow.label).toBe(`edited ${trial}`);
    }
  });
});

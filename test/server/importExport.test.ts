import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { BUILTIN_TEMPLATES_DIR } from '../../src/store/GitStore.ts';
import { CORPUS_DIR, corpusFiles, corpusFlow } from '../helpers/flows.ts';
import { commitCount, expectFailure, expectFlowPanel, harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';

describe('export, import and templates', () => {
  it('exports DB-GPT files: attachment named from the flow name, 4-space JSON; raw JSON without envelope', async () => {
    const h = await harness();
    const body = { ...corpusFlow('chat-data-awel-flow-template.json') };
    const uid = body.uid as string;
    await request(h.app).post(`${V2}/flows`).send(body).expect(200);

    const file = await request(h.app).get(`${V2}/flow/export/${uid}`).buffer(true).parse((res, cb) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => cb(null, text));
    });
    expect(file.status).toBe(200);
    expect(file.headers['content-disposition']).toBe('attachment; filename=chat-data-awel-flow-template.json');
    const text = file.body as string;
    expect(text.split('\n')[1]).toBe('    "flow": {');
    const exported = JSON.parse(text) as { flow: Record<string, unknown> };
    expect(Object.keys(exported)).toEqual(['flow']);
    expectFlowPanel(exported.flow);
    expect(exported.flow.flow_data).toEqual(body.flow_data);

    const named = await request(h.app).get(`${V2}/flow/export/${uid}`).query({ file_name: 'my export', export_type: 'json', format: 'file' }).expect(200);
    expect(named.headers['content-disposition']).toBe('attachment; filename="my export.json"');

    const raw = await request(h.app).get(`${V2}/flow/export/${uid}`).query({ format: 'json' }).expect(200);
    expect(Object.keys(raw.body)).toEqual(['flow']);
    expect(raw.body.flow.uid).toBe(uid);

    const dbgpts = await request(h.app).get(`${V2}/flow/export/${uid}`).query({ export_type: 'dbgpts' }).expect(400);
    expect(expectFailure(dbgpts.body, 'E0003')).toMatch(/dbgpts.*is not supported by flowreg/);
    expectFailure((await request(h.app).get(`${V2}/flow/export/nope`).expect(404)).body, '404');
  });

  it('imports every corpus export, from the UI form field save_flow or the query', async () => {
    const h = await harness();
    const base = await commitCount(h.repo);
    // the two byte-identical templates share uid and name: import gives fresh uids, names stay
    const unique = corpusFiles().filter((f) => f !== 'hybrid-knowledge-process-template.json');
    for (const name of unique) {
      const parsed = await request(h.app).post(`${V2}/flow/import`).attach('file', join(CORPUS_DIR, name)).expect(200);
      expect(parsed.body.success).toBe(true);
      expectFlowPanel(parsed.body.data);
      const source = corpusFlow(name);
      expect(parsed.body.data).toMatchObject({ name: source.name, editable: false, state: 'initializing', dag_id: null });
      expect(parsed.body.data.uid).not.toBe(source.uid);
      expect(parsed.body.data.flow_data).toEqual(source.flow_data);
    }
    expect(await commitCount(h.repo)).toBe(base); // save_flow defaults to false

    // DB-GPT's UI sends save_flow as a form field
    const saved = await request(h.app).post(`${V2}/flow/import`).field('save_flow', 'true').attach('file', join(CORPUS_DIR, unique[0] as string)).expect(200);
    expectFlowPanel(saved.body.data);
    expect(await commitCount(h.repo)).toBe(base + 1);
    const got = await request(h.app).get(`${V2}/flows/${saved.body.data.uid as string}`).expect(200);
    expect(got.body.data.name).toBe(corpusFlow(unique[0] as string).name);
    // and the query parameter works too (another name, or it would be taken)
    const dir = join(h.repo, '..', `${h.repo.split('/').pop() as string}-upload`);
    mkdirSync(dir, { recursive: true });
    const copy = join(dir, 'copy.json');
    const flow = { ...corpusFlow(unique[1] as string), name: 'imported_by_query' };
    writeFileSync(copy, JSON.stringify({ flow }));
    await request(h.app).post(`${V2}/flow/import`).query({ save_flow: 'true' }).attach('file', copy).expect(200);
    expect(await commitCount(h.repo)).toBe(base + 2);
  });

  it('refuses dbgpts packages, other extensions, files without "flow", and a missing file', async () => {
    const h = await harness();
    const zip = await request(h.app).post(`${V2}/flow/import`).attach('file', Buffer.from('PK\u0003\u0004'), 'package.zip').expect(400);
    expect(expectFailure(zip.body, 'E0003')).toMatch(/\.zip\).* is not supported by flowreg/);
    const txt = await request(h.app).post(`${V2}/flow/import`).attach('file', Buffer.from('{}'), 'flow.txt').expect(400);
    expect(expectFailure(txt.body, 'E0001')).toBe('body.file:invalid file extension "txt" of "flow.txt"; expected a .json export file;');
    const noFlow = await request(h.app).post(`${V2}/flow/import`).attach('file', Buffer.from('{"uid": "x"}'), 'x.json').expect(400);
    expect(expectFailure(noFlow.body, 'E0001')).toMatch(/^body\.file:invalid json file, missing 'flow' key/);
    const bad = await request(h.app).post(`${V2}/flow/import`).attach('file', Buffer.from('{"flow": '), 'x.json').expect(400);
    expect(expectFailure(bad.body, 'E0001')).toMatch(/^body\.file:the file is not valid JSON/);
    const none = await request(h.app).post(`${V2}/flow/import`).field('save_flow', 'true').expect(400);
    expect(expectFailure(none.body, 'E0001')).toBe('body.file:Field required: a multipart file field named "file";');
    const notMultipart = await request(h.app).post(`${V2}/flow/import`).send({ flow: {} }).expect(400);
    expect(expectFailure(notMultipart.body, 'E0001')).toMatch(/expected a multipart\/form-data upload/);
  });

  it('answers 400, not 500, to a very deeply nested export, naming the limit', async () => {
    const h = await harness();
    const base = await commitCount(h.repo);
    const n = 100_000;
    const deep = (inner: string): Buffer => Buffer.from(JSON.stringify({ flow: { uid: 'uid-d', name: 'deep', label: 'deep', flow_data: '@' } }).replace('"@"', inner));
    for (const file of [deep(`${'['.repeat(n)}${']'.repeat(n)}`), deep(`${'['.repeat(63)}${']'.repeat(63)}`), Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)]) {
      for (const save of ['false', 'true']) {
        const res = await request(h.app).post(`${V2}/flow/import`).field('save_flow', save).attach('file', file, 'deep.json').expect(400);
        expect(expectFailure(res.body, 'E0001')).toBe('body:the body nests more than 64 levels of objects and arrays; a flow needs far fewer;');
      }
    }
    expect(await commitCount(h.repo)).toBe(base);
  });

  it('refuses an upload with more parts, fields or files than it reads with 400 naming the limit, not "Field required: file"', async () => {
    const h = await harness();
    const base = await commitCount(h.repo);
    const file = join(CORPUS_DIR, corpusFiles()[0] as string);
    const limits = 'at most 100 parts (50 text fields, 10 files) are read. Send the "file" file and only the form fields the request needs;';
    const withFields = (n: number): request.Test => {
      let req = request(h.app).post(`${V2}/flow/import`);
      for (let i = 0; i < n; i++) req = req.field(`f${i}`, 'x');
      return req.attach('file', file);
    };
    const parts = await withFields(120).expect(400);
    expect(expectFailure(parts.body, 'E0001')).toBe(`body:the multipart body has more than 100 parts; ${limits}`);
    const fields = await withFields(60).expect(400);
    expect(expectFailure(fields.body, 'E0001')).toBe(`body:the multipart body has more than 50 text fields; ${limits}`);
    let many = request(h.app).post(`${V2}/flow/import`);
    for (let i = 0; i < 11; i++) many = many.attach(`other${i}`, Buffer.from('{}'), `other${i}.json`);
    const files = await many.attach('file', file).expect(400);
    expect(expectFailure(files.body, 'E0001')).toBe(`body:the multipart body has more than 10 files; ${limits}`);
    // within the limits the same upload is read
    await withFields(49).expect(200);
    expect(await commitCount(h.repo)).toBe(base);
  });

  it('serves the templates folder, paginated, with fresh uids each call', async () => {
    const files: Record<string, string> = {};
    for (const name of corpusFiles()) files[`templates/${name}`] = readFileSync(join(CORPUS_DIR, name), 'utf8');
    const h = await harness({ files });
    const first = await request(h.app).get(`${V2}/flow/templates`).query({ page_size: 4 }).expect(200);
    expect(first.body.data).toMatchObject({ total_count: corpusFiles().length, total_pages: 2, page: 1, page_size: 4 });
    expect(first.body.data.items).toHaveLength(4);
    for (const t of first.body.data.items) {
      expectFlowPanel(t);
      expect(t).toMatchObject({ editable: false, state: 'initializing', dag_id: null });
    }
    const again = await request(h.app).get(`${V2}/flow/templates`).query({ page_size: 4 }).expect(200);
    expect(again.body.data.items[0].name).toBe(first.body.data.items[0].name);
    expect(again.body.data.items[0].uid).not.toBe(first.body.data.items[0].uid);
  });

  it('offers the built-in templates (DB-GPT\'s English ones) when the repository has no templates folder; its own folder replaces them', async () => {
    const builtin = readdirSync(BUILTIN_TEMPLATES_DIR).filter((n) => n.endsWith('.yaml')).sort();
    expect(builtin).toEqual(readdirSync(join(import.meta.dirname, '../../flows')).filter((n) => n.endsWith('.yaml')).sort());
    const bare = await harness();
    const all = await request(bare.app).get(`${V2}/flow/templates`).query({ page_size: 100 }).expect(200);
    expect(all.body.data).toMatchObject({ total_count: builtin.length, total_pages: 1, page: 1 });
    expect(all.body.data.items.map((t: { name: string }) => `${t.name}.yaml`).sort()).toEqual(builtin);
    for (const t of all.body.data.items) {
      expectFlowPanel(t);
      expect(t).toMatchObject({ editable: false, state: 'initializing', dag_id: null });
    }
    // the repository's own folder, even with one template, replaces the built-in ones entirely
    const own = await harness({ files: { 'templates/simple.json': readFileSync(join(CORPUS_DIR, 'simple_streaming_chat_flow.json'), 'utf8') } });
    const mine = await request(own.app).get(`${V2}/flow/templates`).expect(200);
    expect(mine.body.data.total_count).toBe(1);
    expect(mine.body.data.items[0].label).toBe(corpusFlow('simple_streaming_chat_flow.json').label);
    const empty = await harness();
    mkdirSync(join(empty.repo, 'templates'));
    expect((await request(empty.app).get(`${V2}/flow/templates`).expect(200)).body.data.total_count).toBe(0);
  });
});

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { smallFlow } from '../helpers/flows.ts';
import { git } from '../helpers/tmp.ts';
import { commitCount, expectFailure, expectFlowPanel, harness } from './harness.ts';

const V2 = '/api/v2/serve/awel';
const V1 = '/api/v1/serve/awel';

function file(uid: string, name: string): Record<string, string> {
  return { [`flows/${name}.yaml`]: formatFlow(smallFlow(uid, name), { schemaRef: '../schemas/flow.schema.json' }) };
}

describe('writes are commits, versions are ETags', () => {
  it('makes one commit per write and shows the new version and ETag on the next GET', async () => {
    const h = await harness({ files: file('u-1', 'one') });
    const v0 = git(h.repo, ['rev-parse', 'HEAD']);
    const got = await request(h.app).get(`${V2}/flows/u-1`).expect(200);
    expect(got.headers.etag).toBe(`"${v0}"`);
    expect(got.body.data.version).toBe(v0);

    const put = await request(h.app).put(`${V2}/flows/u-1`).send({ ...got.body.data, label: 'One, relabelled' }).expect(200);
    const v1 = git(h.repo, ['rev-parse', 'HEAD']);
    expect(v1).not.toBe(v0);
    expect(await commitCount(h.repo)).toBe(2);
    expect(put.body.data.version).toBe(v1);
    expect(put.headers.etag).toBe(`"${v1}"`);
    expect(git(h.repo, ['show', '--name-only', '--format=%s%n%b', 'HEAD'])).toBe(`update flow one (u-1)\nFlow-Uid: u-1\n\n\nflows/one.yaml`);

    const again = await request(h.app).get(`${V1}/flows/u-1`).expect(200);
    expect(again.headers.etag).toBe(`"${v1}"`);
    expect(again.body.data).toMatchObject({ version: v1, label: 'One, relabelled' });

    // the same content again is no change: no commit, same version
    const same = await request(h.app).put(`${V2}/flows/u-1`).send({ ...again.body.data }).expect(200);
    expect(same.body.data.version).toBe(v1);
    expect(await commitCount(h.repo)).toBe(2);

    // a conditional GET of the current version is answered 304
    await request(h.app).get(`${V2}/flows/u-1`).set('If-None-Match', `"${v1}"`).expect(304);
  });

  it('answers 412 to a stale If-Match and 409 to a stale body version, writing nothing', async () => {
    const h = await harness({ files: file('u-1', 'one') });
    const v0 = git(h.repo, ['rev-parse', 'HEAD']);
    const base = (await request(h.app).get(`${V2}/flows/u-1`).expect(200)).body.data;
    await request(h.app).put(`${V2}/flows/u-1`).set('If-Match', `"${v0}"`).send({ ...base, description: 'first' }).expect(200);
    const v1 = git(h.repo, ['rev-parse', 'HEAD']);

    const stale = await request(h.app).put(`${V2}/flows/u-1`).set('If-Match', `"${v0}"`).send({ ...base, version: undefined, description: 'second' }).expect(412);
    expect(expectFailure(stale.body, '412')).toContain(v1);
    const conflict = await request(h.app).put(`${V2}/flows/u-1`).send({ ...base, description: 'third' }).expect(409);
    expect(expectFailure(conflict.body, '409')).toBe(`flow u-1 is at version ${v1}, not ${v0}: it changed since it was read`);
    // DB-GPT's default version "0.1.1" is not a commit id, so it is no precondition
    await request(h.app).put(`${V2}/flows/u-1`).send({ ...base, version: '0.1.1', description: 'fourth' }).expect(200);
    const v2 = git(h.repo, ['rev-parse', 'HEAD']);
    const del = await request(h.app).delete(`${V2}/flows/u-1`).set('If-Match', `"${v1}"`).expect(412);
    expectFailure(del.body, '412');
    expect(await commitCount(h.repo)).toBe(3);
    await request(h.app).delete(`${V2}/flows/u-1`).set('If-Match', `W/"${v0}", "${v2}"`).expect(200);
    expect(await commitCount(h.repo)).toBe(4);
    expect(git(h.repo, ['status', '--porcelain'])).toBe('');
  });

  it('lets exactly one of 10 concurrent PUTs from the same version through', async () => {
    const h = await harness({ files: file('u-1', 'one') });
    const server = createServer(h.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${V2}/flows/u-1`;
    try {
      const base = (await (await fetch(url)).json()) as { data: Record<string, unknown> };
      const v0 = base.data.version as string;
      const before = await commitCount(h.repo);
      const answers = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          // half guard with the body version (409), half with If-Match (412)
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          const body: Record<string, unknown> = { ...base.data, description: `writer ${i}` };
          if (i % 2 === 1) {
            headers['if-match'] = `"${v0}"`;
            delete body.version;
          }
          const res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify(body) });
          return { i, status: res.status, body: (await res.json()) as Record<string, unknown> };
        }),
      );
      const ok = answers.filter((a) => a.status === 200);
      expect(ok).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) {
        expect(a.status).toBe(a.i % 2 === 1 ? 412 : 409);
        expectFailure(a.body, String(a.status));
      }
      expect(await commitCount(h.repo)).toBe(before + 1);
      const winner = ok[0] as (typeof answers)[number];
      expect(git(h.repo, ['log', '-1', '--format=%s'])).toBe('update flow one (u-1)');
      const now = (await (await fetch(url)).json()) as { data: Record<string, unknown> };
      expect(now.data.description).toBe(`writer ${winner.i}`);
      expect(now.data.version).toBe(git(h.repo, ['rev-parse', 'HEAD']));
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('takes the commit author from the named key, else user_name, else flowreg-api', async () => {
    const h = await harness({ apiKeys: [{ name: 'alice', key: 'k-alice' }, { name: null, key: 'k-anon' }] });
    const author = (): string => git(h.repo, ['log', '-1', '--format=%an <%ae>|%cn <%ce>']);
    const flow = smallFlow('a-1', 'authored') as unknown as Record<string, unknown>;
    await request(h.app).post(`${V2}/flows`).set('Authorization', 'Bearer k-alice').send({ ...flow, user_name: 'mallory' }).expect(200);
    expect(author()).toBe('alice <alice@flowreg>|flowreg <flowreg@localhost>');
    await request(h.app).put(`${V2}/flows/a-1`).set('Authorization', 'Bearer k-anon').send({ ...flow, user_name: 'Bob Smith', description: 'by bob' }).expect(200);
    expect(author()).toBe('Bob Smith <Bob_Smith@flowreg>|flowreg <flowreg@localhost>');
    await request(h.app).delete(`${V2}/flows/a-1`).set('Authorization', 'bearer   k-anon ').expect(200);
    expect(author()).toBe('flowreg-api <flowreg-api@flowreg>|flowreg <flowreg@localhost>');
  });

  it('serves history, a flow at a version, revert and diff', async () => {
    const h = await harness({ files: file('u-1', 'one') });
    const v0 = git(h.repo, ['rev-parse', 'HEAD']);
    const base = (await request(h.app).get(`${V2}/flows/u-1`).expect(200)).body.data;
    await request(h.app).put(`${V2}/flows/u-1`).send({ ...base, label: 'Changed label' }).expect(200);
    const v1 = git(h.repo, ['rev-parse', 'HEAD']);

    const history = await request(h.app).get(`${V2}/flows/u-1/versions`).query({ page_size: 1 }).expect(200);
    expect(history.body.data).toMatchObject({ total_count: 2, total_pages: 2, page: 1, page_size: 1 });
    expect(history.body.data.items).toEqual([{ version: v1, gmt_created: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/), author: 'flowreg-api', author_email: 'flowreg-api@flowreg', message: 'update flow one (u-1)' }]);

    const old = await request(h.app).get(`${V2}/flows/u-1`).query({ version: v0 }).expect(200);
    expect(old.headers.etag).toBe(`"${v0}"`);
    expect(old.body.data).toMatchObject({ version: v0, label: 'one' });

    const diff = await request(h.app).get(`${V2}/flows/u-1/diff`).query({ from: v0, to: v1 }).expect(200);
    expect(diff.body.data.status).toBe('modified');
    expect(JSON.stringify(diff.body.data.changes)).toContain('Changed label');

    const reverted = await request(h.app).post(`${V2}/flows/u-1/revert`).send({ version: v0 }).expect(200);
    const v2 = git(h.repo, ['rev-parse', 'HEAD']);
    expect(reverted.body.data).toMatchObject({ version: v2, label: 'one' });
    expect(reverted.headers.etag).toBe(`"${v2}"`);
    expect(await commitCount(h.repo)).toBe(3);
    expect(git(h.repo, ['log', '-1', '--format=%s'])).toBe('revert flow one (u-1)');

    const missing = await request(h.app).get(`${V2}/flows/u-1`).query({ version: 'f'.repeat(40) }).expect(404);
    expectFailure(missing.body, '404');
  });

  it('answers a flow as its canonical YAML file on Accept: application/yaml', async () => {
    const files = file('u-1', 'one');
    const h = await harness({ files });
    const res = await request(h.app).get(`${V2}/flows/u-1`).set('Accept', 'application/yaml').expect(200);
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(res.headers.etag).toBe(`"${git(h.repo, ['rev-parse', 'HEAD'])}"`);
    // the stored fields in canonical form; DB-GPT's defaults of absent keys are served too
    const stored = files['flows/one.yaml'] as string;
    expect(res.text.startsWith('# yaml-language-server: $schema=../schemas/flow.schema.json\nuid: u-1\nname: one\nlabel: one\n')).toBe(true);
    expect(res.text.endsWith(stored.slice(stored.indexOf('flow_data:')))).toBe(true);
    const json = await request(h.app).get(`${V2}/flows/u-1`).set('Accept', 'application/json, application/yaml;q=0.5').expect(200);
    expectFlowPanel(json.body.data);
  });
});

import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { workCounters } from '../../src/core/workCounters.ts';
import { createApp } from '../../src/server/createApp.ts';
import { LiveSync } from '../../src/service/LiveSync.ts';
import { smallFlow } from '../helpers/flows.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { openService } from '../helpers/openService.ts';
import { waitFor } from '../helpers/waitFor.ts';

const running: LiveSync[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

const text = (i: number): string => formatFlow(smallFlow(`u-${i}`, `f${i}`), { schemaRef: '../schemas/flow.schema.json' });

describe('the work of one REST write', () => {
  it('validates and hashes the new content once; the watcher seeing the write validates nothing again', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`flows/f${i}.yaml`] = text(i);
    const dir = await inProcessRepo(files);
    const { store, svc } = await openService(dir);
    const app = createApp({ service: svc, logger: pino({ level: 'silent' }), apiKeys: [], bodyLimit: 1024 * 1024 });
    const put = async (uid: string, label: string): Promise<void> => {
      const res = await request(app).put(`/api/v2/serve/awel/flows/${uid}`).send({ uid, label });
      expect(res.status).toBe(200);
      expect(res.body.data.label).toBe(label);
    };
    // the REST write alone: one validation, one hash of the new content
    let before = { ...workCounters };
    await put('u-7', 'written once');
    expect(workCounters.validations - before.validations).toBe(1);
    expect(workCounters.blobHashes - before.blobHashes).toBe(1);

    // with the watcher: it reports flowreg's own write and checks it again later; the content is
    // never validated again (by blob id), and hashed again only while it is "racily clean"
    const seen: string[][] = [];
    const live = new LiveSync(store, { onServed: (paths) => seen.push(paths) });
    await live.start();
    running.push(live);
    before = { ...workCounters };
    await put('u-8', 'seen by the watcher');
    await waitFor(() => seen.some((p) => p.includes('flows/f8.yaml')), 10_000, { what: 'the watcher to see the write' });
    await live.settled();
    const checks = seen.filter((p) => p.includes('flows/f8.yaml')).length;
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(seen.every((p) => p.length === 1)).toBe(true);
    expect(workCounters.validations - before.validations).toBe(1);
    // the write's own hash, plus at most one per re-check of that one file (never of the other 19)
    expect(workCounters.blobHashes - before.blobHashes).toBeLessThanOrEqual(1 + checks);

    // a hand edit of one file costs work for that file only, never for the other 19
    const edit = { ...workCounters };
    seen.length = 0;
    writeFileSync(`${dir}/flows/f3.yaml`, formatFlow(smallFlow('u-3', 'f3', { label: 'by hand' }), { schemaRef: '../schemas/flow.schema.json' }));
    await waitFor(async () => (await svc.get('u-3')).flow.label === 'by hand', 10_000, { what: 'the hand edit to be served' });
    await live.settled();
    expect(workCounters.validations - edit.validations).toBe(1);
    expect(seen.every((p) => p.length === 1 && p[0] === 'flows/f3.yaml')).toBe(true);
    expect(workCounters.blobHashes - edit.blobHashes).toBeGreaterThanOrEqual(1);
    expect(workCounters.blobHashes - edit.blobHashes).toBeLessThanOrEqual(seen.length);
  });

  it('hands every batch to subscribers after the index applied it; a failing subscriber fails no write', async () => {
    const dir = await inProcessRepo({ 'flows/f1.yaml': text(1) });
    const errors: unknown[] = [];
    const { store, svc } = await openService(dir, { onListenerError: (err) => errors.push(err) });
    const seen: Array<{ source: string; uids: string[]; label: unknown }> = [];
    store.subscribe((batch) => seen.push({ source: batch.source, uids: batch.uids, label: store.findFlow('u-1')?.summary.label }));
    store.subscribe(() => {
      throw new Error('subscriber broke');
    });
    const out = await svc.update('u-1', { uid: 'u-1', label: 'seen' }, { name: 'A', email: 'a@example.com' });
    expect(out.flow.label).toBe('seen');
    expect(seen).toEqual([{ source: 'write', uids: ['u-1'], label: 'seen' }]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['subscriber broke']);
  });
});

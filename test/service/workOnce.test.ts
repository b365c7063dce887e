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
  it('validates and hashes the new content once, the watcher seeing the write included', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`flows/f${i}.yaml`] = text(i);
    const dir = await inProcessRepo(files);
    const { store, svc } = await openService(dir);
    const seen: string[][] = [];
    const live = new LiveSync(store, { onServed: (paths) => seen.push(paths) });
    await live.start();
    running.push(live);
    const app = createApp({ service: svc, logger: pino({ level: 'silent' }), apiKeys: [], bodyLimit: 1024 * 1024 });
    const before = { ...workCounters };
    const res = await request(app).put('/api/v2/serve/awel/flows/u-7').send({ uid: 'u-7', label: 'written once' });
    expect(res.status).toBe(200);
    expect(res.body.data.label).toBe('written once');
    // the watcher reports flowreg's own write and checks it again later: none of it re-validates or re-hashes
    await waitFor(() => seen.some((p) => p.includes('flows/f7.yaml')), 10_000, { what: 'the watcher to see the write' });
    await live.settled();
    expect(seen.filter((p) => p.includes('flows/f7.yaml')).length).toBeGreaterThanOrEqual(2);
    expect(workCounters.validations - before.validations).toBe(1);
    expect(workCounters.blobHashes - before.blobHashes).toBe(1);
    // a hand edit of one file costs work for that file only
    const edit = { ...workCounters };
    writeFileSync(`${dir}/flows/f3.yaml`, formatFlow(smallFlow('u-3', 'f3', { label: 'by hand' }), { schemaRef: '../schemas/flow.schema.json' }));
    await waitFor(async () => (await svc.get('u-3')).flow.label === 'by hand', 10_000, { what: 'the hand edit to be served' });
    await live.settled();
    expect(workCounters.validations - edit.validations).toBe(1);
    // hashed again only while it is "racily clean" (changed within 50 ms of a read), never the other 19 files
    expect(workCounters.blobHashes - edit.blobHashes).toBeGreaterThanOrEqual(1);
    expect(workCounters.blobHashes - edit.blobHashes).toBeLessThanOrEqual(3);
  });
});

import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { FlowregError } from '../../src/errors/index.ts';
import { createApp } from '../../src/server/createApp.ts';
import { WebhookGate } from '../../src/server/webhookGate.ts';
import type { SyncApi } from '../../src/service/FlowServiceApi.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { expectFailure, harness } from './harness.ts';

const HOOK = '/api/v2/serve/awel/sync/webhook';
const SECRET = 'hook-secret';
const PUSH = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
const sign = (body: string, key = SECRET): string => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

/** A settable promise. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The app over a real service with a sync whose fetch is `fetchNow`; `reached` counts the push
 * calls that got as far as asking for a fetch (they read the branch just before).
 */
async function app(fetchNow: () => Promise<string[]>): Promise<{ app: ReturnType<typeof createApp>; reached: () => number }> {
  const h = await harness();
  let reached = 0;
  const sync: SyncApi = {
    status: () => ({}),
    fetchNow,
    get branch() {
      reached++;
      return 'main';
    },
    hasRemote: true,
    webhookSecret: SECRET,
  };
  return { app: createApp({ service: h.service, logger: pino({ level: 'silent' }), sync }), reached: () => reached };
}

function hook(a: ReturnType<typeof createApp>, headers: Record<string, string>, body = PUSH): request.Test {
  return request(a).post(HOOK).set({ 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sign(body), ...headers }).send(body);
}

describe('the push webhook', () => {
  it('acts on each delivery id once: a repeated delivery answers 200 as a duplicate and does not fetch', async () => {
    let fetches = 0;
    let fail = false;
    const { app: a } = await app(async () => {
      fetches++;
      if (fail) throw new FlowregError('REMOTE_UNREACHABLE', 'cannot fetch from http://git.example.com/x.git: connect ECONNREFUSED');
      return ['flows/a.yaml'];
    });
    for (const header of ['x-github-delivery', 'x-gitea-delivery', 'x-gitlab-event-uuid']) {
      const id = `${header}-72d3162e-cc78-11e3-81ab-4c9367dc0958`;
      const first = await hook(a, { [header]: id }).expect(200);
      expect(first.body.data).toEqual({ event: 'push', fetched: true, changed: ['flows/a.yaml'] });
      const before = fetches;
      const again = await hook(a, { [header]: id }).expect(200);
      expect(again.body.data).toEqual({ event: 'push', fetched: false, duplicate: true, delivery: id, reason: `delivery ${id} was already received; each delivery is acted on once` });
      expect(fetches).toBe(before);
    }
    expect(fetches).toBe(3);
    // a delivery without an id is accepted (signed, as always), each time
    await hook(a, {}).expect(200);
    await hook(a, {}).expect(200);
    expect(fetches).toBe(5);
    // an unsigned or wrongly signed call is refused and does not use up the id
    await hook(a, { 'x-github-delivery': 'd-unsigned', 'x-hub-signature-256': sign(PUSH, 'wrong') }).expect(401);
    expect((await hook(a, { 'x-github-delivery': 'd-unsigned' }).expect(200)).body.data.fetched).toBe(true);
    // a delivery whose fetch failed may be sent again
    fail = true;
    expectFailure((await hook(a, { 'x-github-delivery': 'd-failed' }).expect(503)).body, '503');
    fail = false;
    expect((await hook(a, { 'x-github-delivery': 'd-failed' }).expect(200)).body.data.fetched).toBe(true);
    // a ping is a delivery too
    await hook(a, { 'x-github-event': 'ping', 'x-github-delivery': 'd-ping' }).expect(200);
    expect((await hook(a, { 'x-github-event': 'ping', 'x-github-delivery': 'd-ping' }).expect(200)).body.data.duplicate).toBe(true);
  });

  it('runs webhook fetches one at a time, with at most one queued that the calls meanwhile share', async () => {
    const runs: Array<ReturnType<typeof deferred<string[]>>> = [];
    const { app: a, reached } = await app(() => {
      const d = deferred<string[]>();
      runs.push(d);
      return d.promise;
    });
    const calls = Array.from({ length: 6 }, (_, i) => hook(a, { 'x-github-delivery': `d-${i}` }).then((r) => r));
    // every call asked for a fetch; one runs, the others wait for the one queued behind it
    await waitFor(() => reached() === 6, 10_000);
    expect(runs.length).toBe(1);
    (runs[0] as (typeof runs)[number]).resolve(['flows/first.yaml']);
    await waitFor(() => runs.length === 2, 10_000);
    (runs[1] as (typeof runs)[number]).resolve(['flows/second.yaml']);
    const answers = (await Promise.all(calls)).map((r) => [r.status, (r.body as { data: { changed: string[] } }).data.changed[0]]);
    expect(runs.length).toBe(2);
    expect(answers.filter(([, c]) => c === 'flows/first.yaml')).toEqual([[200, 'flows/first.yaml']]);
    expect(answers.filter(([, c]) => c === 'flows/second.yaml')).toEqual(Array.from({ length: 5 }, () => [200, 'flows/second.yaml']));
    // once both are done, the next call fetches at once
    const next = hook(a, { 'x-github-delivery': 'd-next' }).then((r) => r);
    await waitFor(() => runs.length === 3, 10_000);
    (runs[2] as (typeof runs)[number]).resolve([]);
    expect((await next).body.data).toEqual({ event: 'push', fetched: true, changed: [] });
  });
});

describe('WebhookGate', () => {
  it('remembers the last delivery ids only, and forgets a released one', () => {
    const gate = new WebhookGate(3);
    expect(['a', 'b', 'c', 'a'].map((id) => gate.claim(id))).toEqual([true, true, true, false]);
    expect(gate.claim('d')).toBe(true); // forgets a, the oldest
    expect(['a', 'c', 'd'].map((id) => gate.claim(id))).toEqual([true, false, false]);
    gate.release('d');
    expect(gate.claim('d')).toBe(true);
  });

  it('starts the queued fetch after a failed one, and gives its failure to every call that shares it', async () => {
    const gate = new WebhookGate();
    const runs: Array<ReturnType<typeof deferred<string[]>>> = [];
    const fetch = (): Promise<string[]> => {
      const d = deferred<string[]>();
      runs.push(d);
      return d.promise;
    };
    const first = gate.fetch(fetch);
    const queued = [gate.fetch(fetch), gate.fetch(fetch), gate.fetch(fetch)];
    expect(queued[0]).toBe(queued[1]);
    expect(queued[1]).toBe(queued[2]);
    await waitFor(() => runs.length === 1, 5_000);
    (runs[0] as (typeof runs)[number]).reject(new Error('first failed'));
    await expect(first).rejects.toThrow('first failed');
    await waitFor(() => runs.length === 2, 5_000);
    const later = gate.fetch(fetch); // a new queued one behind the second
    expect(later).not.toBe(queued[0]);
    (runs[1] as (typeof runs)[number]).reject(new Error('second failed'));
    for (const q of queued) await expect(q).rejects.toThrow('second failed');
    await waitFor(() => runs.length === 3, 5_000);
    (runs[2] as (typeof runs)[number]).resolve(['x']);
    expect(await later).toEqual(['x']);
    expect(runs.length).toBe(3);
  });
});

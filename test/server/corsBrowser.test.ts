/**
 * CORS from a real browser: Debian's Chromium (driven by playwright-core) opens a page served by a
 * second loopback server (another port: another origin) that calls flowreg with fetch. An allowed
 * origin lists the flows (the preflight for `user-id` and `authorization` passing without a key);
 * a disallowed one is refused by the browser.
 */
import http from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { smallFlow } from '../helpers/flows.ts';
import { CHROMIUM, haveChromium } from '../render/chromium.ts';
import { harness } from './harness.ts';
import { listenLoopback } from '../helpers/loopback.ts';

const KEY = 'browser-key-123456';
const closers: Array<() => Promise<void>> = [];
let browser: Browser;

/** Serves `app` (or a fixed page) on a loopback port; returns its origin. */
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  return listenLoopback(server, closers);
}

const page = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><title>other origin</title><p>calls flowreg');
};

beforeAll(async () => {
  expect(haveChromium(), `Chromium is needed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  for (const close of closers.splice(0).reverse()) await close();
});

/** fetch(url, {headers}) run by a page of `origin`: the status, body and the headers a script may read, or the browser's error. */
async function fetchFrom(origin: string, url: string, headers: Record<string, string>): Promise<{ ok: true; status: number; total: number; requestId: string | null; etag: string | null } | { ok: false; error: string }> {
  const p = await browser.newPage();
  try {
    await p.goto(origin);
    return await p.evaluate(
      async ([u, h]) => {
        try {
          const r = await fetch(u, { headers: h });
          const body = (await r.json()) as { data?: { total_count?: number } };
          return { ok: true as const, status: r.status, total: body.data?.total_count ?? -1, requestId: r.headers.get('x-request-id'), etag: r.headers.get('etag') };
        } catch (err) {
          return { ok: false as const, error: String(err) };
        }
      },
      [url, headers] as const,
    );
  } finally {
    await p.close();
  }
}

describe('CORS from a browser on another origin', () => {
  it('lets an allowed origin list the flows, with API keys on, and the browser refuses a disallowed one', async () => {
    const allowed = await serve(page);
    const other = await serve(page);
    const h = await harness({
      files: { 'flows/one.yaml': formatFlow(smallFlow('u-1', 'one'), { schemaRef: '../schemas/flow.schema.json' }) },
      corsOrigins: [allowed],
      apiKeys: [{ name: null, key: KEY }],
    });
    const flowreg = await serve(h.app);
    const list = `${flowreg}/api/v2/serve/awel/flows`;

    const ok = await fetchFrom(allowed, list, { 'user-id': 'x', authorization: `Bearer ${KEY}` });
    expect(ok).toMatchObject({ ok: true, status: 200, total: 1, requestId: expect.any(String) });
    // the exposed ETag of one flow is readable too
    const one = await fetchFrom(allowed, `${flowreg}/api/v2/serve/awel/flows/u-1`, { 'user-id': 'x', authorization: `Bearer ${KEY}` });
    expect(one).toMatchObject({ ok: true, status: 200, etag: expect.stringMatching(/^"[0-9a-f]{40}"$/) });

    const refused = await fetchFrom(other, list, { 'user-id': 'x', authorization: `Bearer ${KEY}` });
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/Failed to fetch/) });
    // the preflight went without a key; the allowed origin's requests were logged with theirs
    const routes = h.logs.filter((l) => l.msg === 'request').map((l) => [l.method, l.route, l.status]);
    expect(routes).toContainEqual(['OPTIONS', 'preflight', 204]);
    expect(routes).toContainEqual(['GET', '/api/v2/serve/awel/flows', 200]);
  });
});

import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { serveProcess, type ServedProcess } from '../helpers/daemon.ts';
import { smallFlow } from '../helpers/flows.ts';
import { git, tempRepo } from '../helpers/tmp.ts';
import { waitFor } from '../helpers/waitFor.ts';

const V2 = '/api/v2/serve/awel';
/** The child's descriptor limit, and more idle connections than it allows. */
const LIMIT = 150;
const IDLE = 170;

const text = (label: string): string => formatFlow(smallFlow('u-1', 'one', { label }), { schemaRef: '../schemas/flow.schema.json' });
const started: ServedProcess[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of started.splice(0)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

/** Opens `n` TCP connections that send nothing; resolves once each is connected or closed, with a count of those the server closed. */
async function idleConnections(url: string, n: number): Promise<{ closedByServer: () => number }> {
  const { hostname, port } = new URL(url);
  let closed = 0;
  await Promise.all(
    Array.from({ length: n }, () => {
      const s = connect(Number(port), hostname);
      sockets.push(s);
      s.on('error', () => undefined); // ECONNRESET when the server drops it
      s.resume(); // read the server's 408, so that its close is seen
      s.on('close', () => closed++);
      return new Promise<void>((resolve) => {
        s.once('connect', () => resolve());
        s.once('close', () => resolve());
      });
    }),
  );
  return { closedByServer: () => closed };
}

/** Commits a new label of flow u-1 by hand (native git, outside the daemon): the HEAD check has work to do. */
function commitByHand(repo: string, label: string): void {
  writeFileSync(join(repo, 'flows/one.yaml'), text(label));
  git(repo, ['commit', '-qam', `label ${label}`]);
}

const alive = (s: ServedProcess): boolean => s.child.exitCode === null && s.child.signalCode === null;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The label flow u-1 is served with; null when the request fails. */
async function label(s: ServedProcess): Promise<unknown> {
  try {
    const res = await fetch(`${s.url}${V2}/flows/u-1`);
    return ((await res.json()) as { data?: { label?: unknown } }).data?.label;
  } catch {
    return null;
  }
}

describe(`flowreg serve under a descriptor limit of ${LIMIT}`, () => {
  it('survives running out of descriptors: the HEAD check logs EMFILE and goes on, and it serves again once connections close', async () => {
    const repo = tempRepo({ 'flows/one.yaml': text('first') });
    // a cap above the limit: the idle connections really use every descriptor up
    // (options from the environment, so that this test also runs, and fails, against a flowreg without them)
    const s = await serveProcess(repo, ['--port', '0'], { FLOWREG_MAX_CONNECTIONS: '1000', FLOWREG_HEADERS_TIMEOUT: '60s' }, { maxOpenFiles: LIMIT });
    started.push(s);
    expect(await label(s)).toBe('first');
    await idleConnections(s.url, IDLE);
    commitByHand(repo, 'second');
    // at least two HEAD checks (one a second) while no descriptor is left
    await waitFor(() => !alive(s) || s.logs.some((l) => l.msg === 'HEAD check failed'), 5000);
    await sleep(2500);
    expect(alive(s), `flowreg serve exited: ${s.stderr()}`).toBe(true);
    const headFailure = s.logs.find((l) => l.msg === 'HEAD check failed') as { level: number; where: string; err: { code?: string; message: string } };
    expect(headFailure).toMatchObject({ level: 40, where: 'head' });
    expect(headFailure.err.code ?? headFailure.err.message).toMatch(/EMFILE/);
    expect(s.logs.filter((l) => typeof l.level === 'number' && l.level > 40)).toEqual([]);

    for (const sock of sockets.splice(0)) sock.destroy();
    await waitFor(async () => (await fetch(`${s.url}${V2}/health`).then((r) => r.json(), () => null)) !== null, 5000);
    expect(await (await fetch(`${s.url}${V2}/health`)).json()).toEqual({ status: 'ok' });
    // the commit made while descriptors ran out is served: the failed checks were tried again
    await waitFor(async () => (await label(s)) === 'second', 10_000);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
  }, 30_000);

  it('by default caps connections below the limit: the ones beyond are refused, nothing runs out, and silent ones are closed after the headers timeout', async () => {
    const repo = tempRepo({ 'flows/one.yaml': text('first') });
    const s = await serveProcess(repo, ['--port', '0'], { FLOWREG_HEADERS_TIMEOUT: '1s' }, { maxOpenFiles: LIMIT });
    started.push(s);
    // auto: half the limit when it is under 256
    expect(s.logs[0]).toMatchObject({ msg: 'listening', maxConnections: LIMIT / 2 });
    const idle = await idleConnections(s.url, IDLE);
    // the server accepts each one beyond the cap and closes it at once
    await waitFor(() => idle.closedByServer() >= IDLE - LIMIT / 2, 5000);
    expect(idle.closedByServer()).toBeLessThan(IDLE);
    expect(s.logs.find((l) => l.msg === 'connection refused: too many connections')).toMatchObject({ level: 40, maxConnections: LIMIT / 2 });
    commitByHand(repo, 'second');
    // the server closes the connections that sent nothing, by itself
    await waitFor(() => idle.closedByServer() === IDLE, 5000);
    expect(alive(s), `flowreg serve exited: ${s.stderr()}`).toBe(true);
    expect(await (await fetch(`${s.url}${V2}/health`)).json()).toEqual({ status: 'ok' });
    await waitFor(async () => (await label(s)) === 'second', 5000);
    expect(s.logs.filter((l) => /EMFILE/.test(JSON.stringify(l)))).toEqual([]);
    expect(s.logs.filter((l) => typeof l.level === 'number' && l.level > 40)).toEqual([]);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
  }, 30_000);
});

/**
 * Large hand-written YAML (non-canonical: an editor's or another tool's style) is parsed and
 * validated in a worker thread (src/store/inspectPool.ts), so the event loop, and every request
 * on it, stays responsive while such a file is read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseYaml } from '../../src/core/parseYaml.ts';
import { inspectFlow } from '../../src/store/inspectFlow.ts';
import { LARGE_TEXT } from '../../src/store/inspectPool.ts';
import { bigFlow } from '../diff/bigFlow.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { openService } from '../helpers/openService.ts';

/** A valid flow of about `copies` × 9 nodes, written the way a person or another tool might: comments, flow style, other indentation. */
function handWritten(copies: number): string {
  const flow = { ...bigFlow(copies, 'hand_written'), uid: 'u-hand' };
  return `# edited by hand\n${stringify(flow, { indent: 4, lineWidth: 80, aliasDuplicateObjects: false })}`;
}

describe('a large non-canonical flow file', () => {
  it('is read and served without blocking the event loop: the longest stall stays a fraction of what parsing it on the loop takes', async () => {
    const text = handWritten(6);
    expect(text.length).toBeGreaterThan(LARGE_TEXT * 4);
    expect(parseYaml(text).fast).toBe(false);
    // the floor: what inspecting it on the event loop costs, on this machine now
    inspectFlow(text, 'flows/hand_written.yaml'); // warm up the parser, as a running daemon's is
    let t0 = performance.now();
    const here = inspectFlow(text, 'flows/hand_written.yaml');
    const onLoop = performance.now() - t0;
    expect(here.findings.filter((f) => f.severity === 'error')).toEqual([]);

    const dir = await inProcessRepo();
    const { store, svc } = await openService(dir);
    mkdirSync(join(dir, 'flows'), { recursive: true });
    writeFileSync(join(dir, 'flows/hand_written.yaml'), text);
    // the longest gap between ticks of a 5 ms interval while the file is read
    let last = performance.now();
    let stallMs = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      stallMs = Math.max(stallMs, now - last);
      last = now;
    }, 5);
    t0 = performance.now();
    await store.refresh();
    const took = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick);
    // served exactly as the in-thread inspection would have it
    expect(store.flow('u-hand').errors).toEqual([]);
    expect(stallMs, `longest stall ${stallMs.toFixed(0)} ms; parsing on the loop takes ${onLoop.toFixed(0)} ms; the refresh took ${took.toFixed(0)} ms`).toBeLessThan(Math.max(40, onLoop / 3));

    // serving its content the first time (a GET) parses it off the loop too
    let serveStall = 0;
    last = performance.now();
    const tick2 = setInterval(() => {
      const now = performance.now();
      serveStall = Math.max(serveStall, now - last);
      last = now;
    }, 5);
    const served = await svc.get('u-hand');
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick2);
    expect((served.flow.flow_data as { nodes: unknown[] }).nodes).toHaveLength(6 * 9);
    expect(served.flow.flow_data).toEqual((parseYaml(text).value as { flow_data: unknown }).flow_data);
    expect(serveStall, `longest stall while serving ${serveStall.toFixed(0)} ms; parsing on the loop takes ${onLoop.toFixed(0)} ms`).toBeLessThan(Math.max(40, onLoop / 3));
  });

  it('finds the same findings in the worker as on the loop, for a broken large file', async () => {
    const text = handWritten(3).replace('name: hand_written', 'name: Hand Written!');
    const dir = await inProcessRepo();
    const { store } = await openService(dir);
    mkdirSync(join(dir, 'flows'), { recursive: true });
    writeFileSync(join(dir, 'flows/hand_written.yaml'), text);
    await store.refresh();
    const here = inspectFlow(text, 'flows/hand_written.yaml');
    expect(here.findings.length).toBeGreaterThan(0);
    expect(store.flow('u-hand').errors).toEqual(here.findings.filter((f) => f.severity === 'error'));
  });
});

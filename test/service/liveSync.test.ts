import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatFlow } from '../../src/core/formatFlow.ts';
import { FlowService } from '../../src/service/FlowService.ts';
import { LiveSync } from '../../src/service/LiveSync.ts';
import { smallFlow } from '../helpers/flows.ts';
import { git, tempRepo } from '../helpers/tmp.ts';

const caller = { name: 'Bob', email: 'bob@example.com' };
const text = (uid: string, name: string, label = name): string => formatFlow(smallFlow(uid, name, { label }), { schemaRef: '../schemas/flow.schema.json' });
const running: Array<{ sync: LiveSync; svc: FlowService }> = [];

afterEach(async () => {
  for (const { sync, svc } of running.splice(0)) {
    await sync.stop();
    await svc.close();
  }
});

async function waitFor(cond: () => Promise<boolean> | boolean, ms = 3000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function live(dir: string): Promise<{ svc: FlowService; served: Array<{ paths: string[]; changed: string[] }> }> {
  const svc = await FlowService.open({ repo: dir, durable: false });
  const served: Array<{ paths: string[]; changed: string[] }> = [];
  const sync = new LiveSync(svc, { onServed: (paths, _s, changed) => served.push({ paths, changed }) });
  await sync.start();
  running.push({ sync, svc });
  return { svc, served };
}

const label = async (svc: FlowService, uid: string): Promise<unknown> => (await svc.get(uid).catch(() => null))?.flow.label;
const atomicSave = (path: string, content: string): void => {
  writeFileSync(`${path}.tmp~`, content);
  renameSync(`${path}.tmp~`, path);
};

describe('LiveSync watching the working tree', () => {
  it('serves edits, new files, deletes and renames, ignoring editor temp files', async () => {
    const dir = tempRepo({ 'flows/one.yaml': text('u-1', 'one'), 'flows/two.yaml': text('u-2', 'two') });
    const { svc } = await live(dir);
    atomicSave(join(dir, 'flows/one.yaml'), text('u-1', 'one', 'edited'));
    const ms = await waitFor(async () => (await label(svc, 'u-1')) === 'edited');
    expect(ms).toBeLessThan(1000);
    expect((await svc.get('u-1')).flow.version).toMatch(/^[0-9a-f]{40}-dirty$/);
    writeFileSync(join(dir, 'flows/three.yaml'), text('u-3', 'three'));
    await waitFor(async () => (await label(svc, 'u-3')) === 'three');
    expect((await svc.get('u-3')).flow.version).toBe('uncommitted');
    writeFileSync(join(dir, 'flows/.three.yaml.swp'), 'garbage');
    writeFileSync(join(dir, 'flows/three.yaml~'), text('u-9', 'nine'));
    rmSync(join(dir, 'flows/two.yaml'));
    await waitFor(async () => (await label(svc, 'u-2')) === undefined);
    expect((await svc.list({}, 1, 50)).items.map((f) => f.uid).sort()).toEqual(['u-1', 'u-3']);
    mkdirSync(join(dir, 'flows/team'));
    renameSync(join(dir, 'flows/three.yaml'), join(dir, 'flows/team/three.yaml'));
    await waitFor(() => svc.store.byUid('u-3')[0]?.path === 'flows/team/three.yaml');
    expect((await svc.list({}, 1, 50)).total_count).toBe(2);
  });

  it('follows commits, checkouts and merges made by hand, and does not process its own writes twice', async () => {
    const dir = tempRepo({ 'flows/one.yaml': text('u-1', 'one') });
    const { svc, served } = await live(dir);
    const out = await svc.update('u-1', { label: 'by flowreg' }, caller);
    await new Promise((r) => setTimeout(r, 100));
    // the watcher saw flowreg's own write, but nothing was served anew
    expect(served.flatMap((s) => s.changed)).toEqual([]);
    git(dir, ['checkout', '-q', '-b', 'feature']);
    writeFileSync(join(dir, 'flows/one.yaml'), text('u-1', 'one', 'on feature'));
    writeFileSync(join(dir, 'flows/two.yaml'), text('u-2', 'two'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-qm', 'feature work']);
    const feature = git(dir, ['rev-parse', 'HEAD']);
    await waitFor(async () => (await svc.get('u-1').catch(() => null))?.flow.version === feature && (await svc.get('u-2').catch(() => null))?.flow.version === feature);
    git(dir, ['checkout', '-q', 'main']);
    // git writes the files before it moves HEAD: wait for both
    await waitFor(async () => (await svc.get('u-1')).flow.version === out.version);
    expect(await label(svc, 'u-1')).toBe('by flowreg');
    expect(await label(svc, 'u-2')).toBeUndefined();
    git(dir, ['merge', '-q', '--ff-only', 'feature']);
    // the file changes first, then HEAD moves: wait for both
    await waitFor(async () => (await svc.get('u-1')).flow.version === feature);
    expect(await label(svc, 'u-1')).toBe('on feature');
    expect((await svc.versions('u-1', 1, 10)).items[0]?.message).toBe('feature work');
  });

  it('quarantines a broken file and clears it when fixed, other flows unaffected', async () => {
    const dir = tempRepo({ 'flows/one.yaml': text('u-1', 'one'), 'flows/two.yaml': text('u-2', 'two') });
    const { svc } = await live(dir);
    const good = readFileSync(join(dir, 'flows/one.yaml'), 'utf8');
    atomicSave(join(dir, 'flows/one.yaml'), good.replace('label: one', 'label: [broken'));
    await waitFor(async () => (await svc.get('u-1')).flow.state === 'load_failed');
    const bad = (await svc.get('u-1')).flow;
    expect(bad.label).toBe('one');
    expect(bad.error_message).toMatch(/^flows\/one\.yaml:\d+:\d+ YAML_SYNTAX/);
    expect((await svc.get('u-2')).flow.state).toBe('initializing');
    atomicSave(join(dir, 'flows/one.yaml'), good);
    await waitFor(async () => (await svc.get('u-1')).flow.state === 'initializing');
    expect(svc.stats()).toEqual({ flows: 2, invalid: 0 });
  });

  it('serves the last of several rapid saves of one file', async () => {
    const dir = tempRepo({ 'flows/one.yaml': text('u-1', 'one') });
    const { svc } = await live(dir);
    for (let i = 0; i < 5; i++) {
      atomicSave(join(dir, 'flows/one.yaml'), text('u-1', 'one', `save ${i}`));
      await new Promise((r) => setTimeout(r, 8));
    }
    await waitFor(async () => (await label(svc, 'u-1')) === 'save 4');
  });
});

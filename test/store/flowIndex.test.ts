import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/types.ts';
import { FlowIndex } from '../../src/store/FlowIndex.ts';
import type { FlowChange, FlowFileState } from '../../src/store/types.ts';

const broken: Finding = { code: 'YAML_SYNTAX', severity: 'error', path: '', file: '', line: 3, col: 8, message: 'unexpected end' };

/** A file state: `uid` null means the file does not parse to a mapping. */
function file(path: string, blob: string, uid: string | null, errors: Finding[] = []): FlowFileState {
  return { path, blob, headBlob: blob, summary: uid === null ? null : { uid, name: path.replace(/^.*\/|\.yaml$/g, ''), label: 'x' }, findings: errors, nodes: [], mtimeMs: 1 };
}

class Tree {
  readonly index = new FlowIndex();
  private readonly files = new Map<string, FlowFileState>();
  set(f: FlowFileState): string[] {
    return this.apply([{ path: f.path, before: this.files.get(f.path) ?? null, after: f }]);
  }
  remove(path: string): string[] {
    return this.apply([{ path, before: this.files.get(path) ?? null, after: null }]);
  }
  apply(changes: FlowChange[]): string[] {
    for (const c of changes) {
      if (c.after) this.files.set(c.path, c.after);
      else this.files.delete(c.path);
    }
    return this.index.apply(changes).sort();
  }
}

describe('FlowIndex', () => {
  it('keeps the last valid content of a file that stops parsing, under its uid, until it is fixed or deleted', () => {
    const t = new Tree();
    expect(t.set(file('flows/a.yaml', 'b1', 'u-1'))).toEqual(['u-1']);
    expect(t.index.get('u-1')).toMatchObject({ blob: 'b1', errors: [] });
    // the file no longer parses: no uid, but the flow stays served with its last valid content
    expect(t.set(file('flows/a.yaml', 'b2', null, [broken]))).toEqual(['u-1']);
    expect(t.index.get('u-1')).toMatchObject({ uid: 'u-1', blob: 'b1', path: 'flows/a.yaml' });
    expect(t.index.get('u-1').errors.map((f) => f.code)).toEqual(['YAML_SYNTAX']);
    expect(t.index.size).toBe(1);
    // still broken, edited again: still the last valid content
    t.set(file('flows/a.yaml', 'b3', null, [broken]));
    expect(t.index.get('u-1').blob).toBe('b1');
    expect(t.index.size).toBe(1);
    // fixed
    expect(t.set(file('flows/a.yaml', 'b4', 'u-1'))).toEqual(['u-1']);
    expect(t.index.get('u-1')).toMatchObject({ blob: 'b4', errors: [] });
    // broken again, then deleted: nothing is left served
    t.set(file('flows/a.yaml', 'b5', null, [broken]));
    expect(t.remove('flows/a.yaml')).toEqual(['u-1']);
    expect(t.index.size).toBe(0);
    expect(() => t.index.get('u-1')).toThrow(/Flow u-1 not found/);
  });

  it('serves a new invalid file under its path, reports a duplicate uid, and re-derives only what a batch touches', () => {
    const t = new Tree();
    t.apply([
      { path: 'flows/a.yaml', before: null, after: file('flows/a.yaml', 'a1', 'u-1') },
      { path: 'flows/b.yaml', before: null, after: file('flows/b.yaml', 'b1', 'u-2') },
      { path: 'flows/c.yaml', before: null, after: file('flows/c.yaml', 'c1', null, [broken]) },
    ]);
    expect([...t.index.all()].map((s) => s.uid).sort()).toEqual(['file:flows/c.yaml', 'u-1', 'u-2']);
    expect(t.index.get('file:flows/c.yaml')).toMatchObject({ blob: null, summary: { name: 'c', label: 'c' } });
    const b = t.index.get('u-2');
    // a second file declares u-1: the first by path is served, with the duplicate reported
    expect(t.set(file('flows/z.yaml', 'z1', 'u-1'))).toEqual(['u-1']);
    expect(t.index.get('u-1').errors.map((f) => `${f.code} ${f.file}`)).toEqual(['UID_DUPLICATE flows/z.yaml']);
    expect(t.index.get('u-1').blob).toBe('a1');
    // u-2 was not touched: the same entry object
    expect(t.index.get('u-2')).toBe(b);
    expect(t.remove('flows/z.yaml')).toEqual(['u-1']);
    expect(t.index.get('u-1').errors).toEqual([]);
    // a rename keeps the flow, names are found without regard to case
    t.apply([
      { path: 'flows/b.yaml', before: file('flows/b.yaml', 'b1', 'u-2'), after: null },
      { path: 'flows/B2.yaml', before: null, after: file('flows/B2.yaml', 'b1', 'u-2') },
    ]);
    expect(t.index.get('u-2').path).toBe('flows/B2.yaml');
    expect(t.index.nameClashes('b2', 'flows/b2.yaml')).toEqual(['flows/B2.yaml']);
    expect(t.index.filesOf('u-2').map((f) => f.path)).toEqual(['flows/B2.yaml']);
  });

  it('quarantines flows whose names differ only in case, and clears both when one goes', () => {
    const t = new Tree();
    t.set(file('flows/Twin.yaml', 't1', 'u-1'));
    expect(t.set(file('flows/team/twin.yaml', 't2', 'u-2'))).toEqual(['u-1', 'u-2']);
    expect(t.index.get('u-1').errors.map((f) => `${f.code} ${f.file}`)).toEqual(['NAME_CASE_CLASH flows/Twin.yaml']);
    expect(t.index.get('u-2').errors.map((f) => `${f.code} ${f.file}`)).toEqual(['NAME_CASE_CLASH flows/team/twin.yaml']);
    // the first stays served with its valid content (it was valid before the clash)
    expect(t.index.get('u-1').blob).toBe('t1');
    expect(t.remove('flows/team/twin.yaml')).toEqual(['u-1', 'u-2']);
    expect(t.index.get('u-1').errors).toEqual([]);
  });

  it('bumps its generation once per batch that changed something', () => {
    const t = new Tree();
    const g0 = t.index.generation;
    t.set(file('flows/a.yaml', 'a1', 'u-1'));
    expect(t.index.generation).toBe(g0 + 1);
    expect(t.index.apply([])).toEqual([]);
    expect(t.index.generation).toBe(g0 + 1);
  });
});

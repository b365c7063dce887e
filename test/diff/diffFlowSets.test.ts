import { describe, expect, it } from 'vitest';
import { diffFlowSets } from '../../src/core/diffFlowSets.ts';
import type { FlowFile } from '../../src/core/types.ts';
import { clone, corpusFlow, flowText } from './corpus.ts';

const simple = corpusFlow('simple_streaming_chat_flow.json');
const rag = corpusFlow('rag-chat-awel-flow-template.json');
const kg = corpusFlow('kg-knowledge-process-flow-template.json');
const y = (f: FlowFile): string => flowText('flows/f.yaml', f);

describe('diffFlowSets', () => {
  it('pairs flows by uid: a renamed file with a new name is one renamed flow', () => {
    const renamed = clone(simple);
    renamed.name = 'simple_chat';
    const set = diffFlowSets(
      [{ path: 'flows/simple_streaming_chat_workflow.yaml', text: y(simple) }, { path: 'flows/rag.yaml', text: y(rag) }],
      [{ path: 'flows/simple_chat.yaml', text: y(renamed) }, { path: 'flows/rag.yaml', text: y(rag) }],
      { base: 'main', head: null },
    );
    expect(set.flows.map((f) => [f.status, f.beforePath, f.afterPath, f.previousName, f.name])).toEqual([
      ['renamed', 'flows/simple_streaming_chat_workflow.yaml', 'flows/simple_chat.yaml', 'simple_streaming_chat_workflow', 'simple_chat'],
    ]);
    expect(set.flows[0]?.changes).toEqual([{ kind: 'flow-field', field: 'name', before: 'simple_streaming_chat_workflow', after: 'simple_chat' }]);
    expect(set).toMatchObject({ base: 'main', head: null });
  });

  it('shows a file moved to a sub-folder as renamed even when its content is the same', () => {
    const set = diffFlowSets([{ path: 'flows/rag.yaml', text: y(rag) }], [{ path: 'flows/team-a/rag.yaml', text: y(rag) }]);
    expect(set.flows.map((f) => [f.status, f.beforePath, f.afterPath, f.changes.length])).toEqual([['renamed', 'flows/rag.yaml', 'flows/team-a/rag.yaml', 0]]);
  });

  it('reports added and deleted flows, ordered by path, and leaves unchanged ones out', () => {
    const set = diffFlowSets(
      [{ path: 'flows/rag.yaml', text: y(rag) }, { path: 'flows/simple.yaml', text: y(simple) }],
      [{ path: 'flows/kg.yaml', text: y(kg) }, { path: 'flows/simple.yaml', text: y(simple) }],
    );
    expect(set.flows.map((f) => [f.afterPath ?? f.beforePath, f.status, f.uid])).toEqual([
      ['flows/kg.yaml', 'added', kg.uid],
      ['flows/rag.yaml', 'deleted', rag.uid],
    ]);
  });

  it('keeps two files with the same uid apart by path (the duplicated corpus template)', () => {
    const changed = clone(kg);
    changed.description = 'changed';
    const set = diffFlowSets(
      [{ path: 'flows/hybrid.yaml', text: y(kg) }, { path: 'flows/kg.yaml', text: y(kg) }],
      [{ path: 'flows/hybrid.yaml', text: y(kg) }, { path: 'flows/kg.yaml', text: y(changed) }],
    );
    expect(set.flows.map((f) => [f.beforePath, f.afterPath, f.status, f.counts.flowFields])).toEqual([['flows/kg.yaml', 'flows/kg.yaml', 'modified', 1]]);
  });

  it('says a file cannot be read rather than diffing half of it', () => {
    const set = diffFlowSets([{ path: 'flows/rag.yaml', text: y(rag) }], [{ path: 'flows/rag.yaml', text: 'uid: [unclosed\n' }, { path: 'flows/list.yaml', text: '- 1\n' }]);
    expect(set.flows.map((f) => [f.afterPath, f.status, f.changes.length])).toEqual([
      ['flows/list.yaml', 'invalid', 0],
      ['flows/rag.yaml', 'invalid', 0],
    ]);
    expect(set.flows[0]?.errors).toEqual([expect.stringMatching(/^flows\/list\.yaml:1:1: .*mapping/)]);
    expect(set.flows[1]?.errors[0]).toMatch(/^flows\/rag\.yaml:\d+:\d+: /);
    expect(set.flows[1]?.name).toBe(rag.name);
  });
});

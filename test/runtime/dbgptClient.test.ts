/**
 * DB-GPT's own Python client, dbgpt_client 0.8.2 (from the test venv), against flowreg: list,
 * get, create, update, delete (test/runtime/dbgpt_client_check.py). The same script runs against a
 * real DB-GPT 0.8.2 first: its create_flow and update_flow work there (they were broken in 0.7.x),
 * so they must work against flowreg too, with the same results but for the differences
 * docs/api.md lists (state and metadata of a deployed flow, version).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFlowreg, type FlowregServer } from '../helpers/dbgpt/flowregServer.ts';
import { describeDbgpt, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { runPythonScript } from '../helpers/dbgpt/pythonScript.ts';
import { simpleChatBody } from '../helpers/dbgpt/requests.ts';
import { startStubLlm, type StubLlm } from '../helpers/stubLlm.ts';
import { tempDir } from '../helpers/tmp.ts';
import { commitCount } from '../server/harness.ts';

const SCRIPT = resolve(import.meta.dirname, 'dbgpt_client_check.py');
const UID = 'flowreg-client-0001';
const NAME = 'client_simple_chat';

/** A FlowPanel as the script summarizes it. */
interface Summary {
  type: string;
  uid: string;
  name: string;
  label: string;
  description: string;
  state: string;
  flow_category: string;
  editable: boolean;
  dag_id: string;
  version: string;
  source: string;
  metadata: boolean;
  nodes: number;
  edges: number;
}
type Step = Summary | Summary[] | { error: string };
type Results = Record<string, Step> & { update_warnings?: string[] };

const ok = (s: Step | undefined): Summary => {
  expect(s, JSON.stringify(s)).toBeDefined();
  expect((s as { error?: string }).error, 'the client call failed').toBeUndefined();
  return s as Summary;
};
const failed = (s: Step | undefined): string => {
  expect((s as { error?: string } | undefined)?.error, `expected the client call to fail: ${JSON.stringify(s)}`).toBeTypeOf('string');
  return (s as { error: string }).error;
};

/** Runs the script with the venv's python against `apiBase`; everything Python writes stays in `home`. */
function runClient(apiBase: string, bodyFile: string, home: string): Promise<Results> {
  return runPythonScript(SCRIPT, [apiBase, bodyFile], home);
}

describeDbgpt('dbgpt_client 0.8.2 (the real Python client) against flowreg', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  let flowreg: FlowregServer;
  let onDbgpt: Results;
  let onFlowreg: Results;
  let commitsBefore = 0;

  beforeAll(async () => {
    const dir = tempDir('flowreg-client-');
    const bodyFile = join(dir, 'body.json');
    writeFileSync(bodyFile, JSON.stringify(simpleChatBody(UID, NAME)));
    llm = await startStubLlm();
    [db, flowreg] = await Promise.all([startDbgpt({ llmUrl: llm.url }), startFlowreg()]);
    commitsBefore = await commitCount(flowreg.repo);
    [onDbgpt, onFlowreg] = await Promise.all([runClient(`${db.url}/api/v2`, bodyFile, join(dir, 'home-dbgpt')), runClient(`${flowreg.url}/api/v2`, bodyFile, join(dir, 'home-flowreg'))]);
  }, 240_000);

  afterAll(async () => {
    await db?.stop();
    await llm?.close();
    await flowreg?.close();
  }, 60_000);

  it('against DB-GPT 0.8.2 itself, create_flow and update_flow work', () => {
    expect(ok(onDbgpt.create)).toMatchObject({ uid: UID, name: NAME, state: 'deployed', dag_id: `flow_dag_${NAME}_${UID}` });
    expect(ok(onDbgpt.update)).toMatchObject({ uid: UID, label: 'Updated by dbgpt_client', description: 'changed through update_flow' });
    expect(ok(onDbgpt.get_after_update).label).toBe('Updated by dbgpt_client');
    // DB-GPT's quirk (docs/api.md): a running flow sent back as read (state "running") is unregistered, not redeployed.
    expect(ok(onDbgpt.get)).toMatchObject({ state: 'running', metadata: true });
    expect(ok(onDbgpt.get_after_update)).toMatchObject({ state: 'running', metadata: false });
  });

  it('create_flow: the flow with our uid, one commit, version = the commit id', () => {
    const c = ok(onFlowreg.create);
    expect(c).toMatchObject({ type: 'FlowPanel', uid: UID, name: NAME, label: 'client simple chat', state: 'deployed', flow_category: 'chat_flow', editable: true, dag_id: `flow_dag_${NAME}_${UID}`, metadata: false, nodes: 3, edges: 2 });
    expect(c.version).toMatch(/^[0-9a-f]{40}$/);
  });

  it('list_flow and list_flow(name=…) find it; get_flow reads it', () => {
    expect((onFlowreg.list as Summary[]).map((f) => f.uid)).toEqual([UID]);
    expect((onFlowreg.list_by_name as Summary[]).map((f) => f.uid)).toEqual([UID]);
    expect(ok(onFlowreg.get)).toMatchObject({ uid: UID, name: NAME, label: 'client simple chat', dag_id: `flow_dag_${NAME}_${UID}` });
  });

  it('update_flow (the flow as read, label and description changed) writes it; get_flow shows the change', () => {
    const u = ok(onFlowreg.update);
    expect(u).toMatchObject({ uid: UID, label: 'Updated by dbgpt_client', description: 'changed through update_flow' });
    expect(u.version).toMatch(/^[0-9a-f]{40}$/);
    expect(u.version).not.toBe(ok(onFlowreg.create).version);
    expect(ok(onFlowreg.get_after_update)).toMatchObject({ label: 'Updated by dbgpt_client', description: 'changed through update_flow', version: u.version });
  });

  it('delete_flow answers the flow as it was; then get_flow and delete_flow fail with 404 "not found"', () => {
    expect(ok(onFlowreg.delete)).toMatchObject({ uid: UID, label: 'Updated by dbgpt_client' });
    for (const step of ['get_after_delete', 'get_unknown', 'delete_unknown']) {
      const err = failed(onFlowreg[step]);
      expect(err).toMatch(/^ClientException: /);
      expect(err).toContain("'err_code': '404'");
      expect(err).toMatch(/Flow \S+ not found/);
    }
  });

  it('three commits: create, update, delete', async () => {
    expect(await commitCount(flowreg.repo)).toBe(commitsBefore + 3);
  });

  it('the same results as DB-GPT, but for state, metadata and version (docs/api.md)', () => {
    const same = (s: Step | undefined) => {
      if (s === undefined || 'error' in s) return s === undefined ? s : { error: s.error.replace(/Reason: \{.*?\}/s, 'Reason: {…}') };
      const strip = ({ state: _s, metadata: _m, version: _v, ...rest }: Summary) => rest;
      return Array.isArray(s) ? s.map(strip) : strip(s);
    };
    const steps = ['create', 'list', 'list_by_name', 'get', 'update', 'get_after_update', 'delete', 'get_after_delete', 'get_unknown', 'delete_unknown'];
    expect(Object.fromEntries(steps.map((k) => [k, same(onFlowreg[k])]))).toEqual(Object.fromEntries(steps.map((k) => [k, same(onDbgpt[k])])));
    // Where they differ: DB-GPT runs the deployed flow (state running, metadata set) and keeps version "0.1.1".
    expect(ok(onDbgpt.get)).toMatchObject({ state: 'running', metadata: true, version: '0.1.1' });
    expect(ok(onFlowreg.get)).toMatchObject({ state: 'deployed', metadata: false });
  });
});

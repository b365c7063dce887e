/**
 * Differential test: the same requests, in the same order, to a real DB-GPT 0.8.2 and to flowreg
 * (in-process, on a loopback port, over a fresh repository, no runtime configured), compared
 * field by field: status, the compared headers, the envelope, every data field, list order.
 *
 * Every difference must be a row of the table in docs/api.md, "Differences from DB-GPT"
 * (`| request | field | difference |`); the test fails on a difference the table does not list
 * (printing it as a row to paste) and on a row that no longer matches any difference.
 * `FLOWREG_DIFF_DUMP=<file>` writes every difference found to that file, as table rows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asRow, covers, diffLeaves, leavesOf, parseKnownDifferences, type Difference } from '../helpers/dbgpt/compareAnswers.ts';
import { startFlowreg, type FlowregServer } from '../helpers/dbgpt/flowregServer.ts';
import { dbgptVenv, describeDbgpt, sitePackages, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody, type Answer } from '../helpers/dbgpt/requests.ts';
import { startStubLlm, type StubLlm } from '../helpers/stubLlm.ts';

const API_DOC = resolve(import.meta.dirname, '../../docs/api.md');
const AWEL = '/api/v2/serve/awel';

/** One server under comparison, and what it generated (uids by name) during the run. */
interface Side {
  name: 'DB-GPT' | 'flowreg';
  base: string;
  /** Server-generated uids, by the name of the step that made them. */
  generated: Map<string, string>;
  /** Per-server value → placeholder, applied to every compared string. */
  replace: Map<string, string>;
  /** The last answer to each step. */
  answers: Map<string, Answer>;
}

/** One request sent to both servers. */
interface Step {
  /** The request column of the table: `METHOD /path (what)`. */
  label: string;
  method: string;
  path: (s: Side) => string;
  body?: (s: Side) => unknown;
  headers?: Record<string, string>;
  /** Runs after both answered (e.g. to record a generated uid). */
  after?: (s: Side, a: Answer) => void;
}

const U = {
  developing: 'flowreg-diff-0001',
  deployed: 'flowreg-diff-0002',
  other: 'flowreg-diff-0003',
  missing: 'flowreg-diff-none',
};

const dataOf = (a: Answer): Record<string, unknown> => ((a.json as { data?: Record<string, unknown> } | undefined)?.data ?? {}) as Record<string, unknown>;

/** Records a server-generated uid (the answer's `data.uid`) under `key`, and its placeholder. */
const remember = (key: string) => (s: Side, a: Answer) => {
  const uid = dataOf(a).uid;
  if (typeof uid === 'string' && uid !== '') {
    s.generated.set(key, uid);
    s.replace.set(uid, `<uid:${key}>`);
  }
};

/** Records every uid of a list answer (templates: fresh per call on both). */
const rememberItems = (key: string) => (s: Side, a: Answer) => {
  const items = (dataOf(a).items ?? []) as Array<{ uid?: unknown; label?: unknown }>;
  for (const item of items) if (typeof item.uid === 'string' && item.uid !== '') s.replace.set(item.uid, `<uid:${key}:${String(item.label)}>`);
};

function exportFile(name: string, uid: string): FormData {
  const flow = { ...simpleChatBody(uid, name), state: 'running', dag_id: `flow_dag_${name}_${uid}` };
  const fd = new FormData();
  fd.append('file', new Blob([JSON.stringify({ flow }, null, 4)], { type: 'application/json' }), `${name.replace(/_/g, '-')}.json`);
  return fd;
}

const chatBody = (uid: string | null, model: string, stream: boolean, conv: string) => ({
  chat_mode: 'chat_flow',
  ...(uid !== null ? { chat_param: uid } : {}),
  model,
  messages: 'hello differential',
  stream,
  conv_uid: conv,
});

function steps(model: string): Step[] {
  const flowOf = (s: Side, step: string): Record<string, unknown> => dataOf(s.answers.get(step)!);
  return [
    { label: 'GET /health', method: 'GET', path: () => `${AWEL}/health` },
    { label: 'GET /flows (empty)', method: 'GET', path: () => `${AWEL}/flows` },
    { label: 'POST /flows (our uid, developing)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody(U.developing, 'diff_developing', { state: 'developing' }) },
    { label: 'POST /flows (our uid, deployed)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody(U.deployed, 'diff_deployed') },
    {
      label: 'POST /flows (no uid)',
      method: 'POST',
      path: () => `${AWEL}/flows`,
      body: () => {
        const b = simpleChatBody('x', 'diff_generated', { state: 'developing' });
        delete b.uid;
        return b;
      },
      after: remember('generated'),
    },
    { label: 'GET /flows/{uid} (developing)', method: 'GET', path: () => `${AWEL}/flows/${U.developing}` },
    { label: 'GET /flows/{uid} (deployed)', method: 'GET', path: () => `${AWEL}/flows/${U.deployed}` },
    { label: 'GET /flows/{uid} (generated uid)', method: 'GET', path: (s) => `${AWEL}/flows/${s.generated.get('generated') ?? 'none'}` },
    { label: 'GET /flows', method: 'GET', path: () => `${AWEL}/flows` },
    { label: 'GET /flows?name=', method: 'GET', path: () => `${AWEL}/flows?name=diff_deployed` },
    { label: 'GET /flows?uid=', method: 'GET', path: () => `${AWEL}/flows?uid=${U.developing}` },
    { label: 'GET /flows?page=2&page_size=1', method: 'GET', path: () => `${AWEL}/flows?page=2&page_size=1` },
    { label: 'GET /chat/flows', method: 'GET', path: () => `${AWEL}/chat/flows` },
    {
      label: 'PUT /flows/{uid} (label changed, body as read)',
      method: 'PUT',
      path: () => `${AWEL}/flows/${U.developing}`,
      body: (s) => ({ ...flowOf(s, 'GET /flows/{uid} (developing)'), label: 'Diff developing, renamed' }),
    },
    { label: 'GET /flows/{uid} (after PUT)', method: 'GET', path: () => `${AWEL}/flows/${U.developing}` },
    {
      label: 'PUT /flows/{uid} (path uid differs from body uid)',
      method: 'PUT',
      path: () => `${AWEL}/flows/${U.other}`,
      body: (s) => ({ ...flowOf(s, 'GET /flows/{uid} (after PUT)'), description: 'updated through another path' }),
    },
    { label: 'PUT /flows/{uid} (unknown uid)', method: 'PUT', path: () => `${AWEL}/flows/${U.missing}`, body: () => simpleChatBody(U.missing, 'diff_missing', { state: 'developing' }) },
    { label: 'PUT /flows/{uid} (invalid JSON)', method: 'PUT', path: () => `${AWEL}/flows/${U.developing}`, body: () => '{"uid": ' },
    { label: 'GET /flow/export/{uid}?format=json', method: 'GET', path: () => `${AWEL}/flow/export/${U.developing}?format=json` },
    { label: 'GET /flow/export/{uid} (file)', method: 'GET', path: () => `${AWEL}/flow/export/${U.developing}` },
    { label: 'GET /flow/export/{uid} (unknown uid)', method: 'GET', path: () => `${AWEL}/flow/export/${U.missing}?format=json` },
    { label: 'POST /flow/import', method: 'POST', path: () => `${AWEL}/flow/import`, body: () => exportFile('diff_imported', 'flowreg-diff-import'), after: remember('import') },
    {
      label: 'POST /flow/import?save_flow=true',
      method: 'POST',
      path: () => `${AWEL}/flow/import?save_flow=true`,
      body: () => exportFile('diff_imported_saved', 'flowreg-diff-import-saved'),
      after: remember('import-saved'),
    },
    { label: 'GET /flows/{uid} (imported)', method: 'GET', path: (s) => `${AWEL}/flows/${s.generated.get('import-saved') ?? 'none'}` },
    {
      label: 'POST /flow/import (not a .json file)',
      method: 'POST',
      path: () => `${AWEL}/flow/import`,
      body: () => {
        const fd = new FormData();
        fd.append('file', new Blob(['hello'], { type: 'text/plain' }), 'notes.txt');
        return fd;
      },
    },
    { label: 'GET /flow/templates', method: 'GET', path: () => `${AWEL}/flow/templates`, after: rememberItems('template') },
    { label: 'GET /nodes', method: 'GET', path: () => `${AWEL}/nodes` },
    { label: 'GET /variables/keys', method: 'GET', path: () => `${AWEL}/variables/keys` },
    // bad inputs
    {
      label: 'POST /flows (missing name)',
      method: 'POST',
      path: () => `${AWEL}/flows`,
      body: () => {
        const b = simpleChatBody('flowreg-diff-noname', 'x', { state: 'developing', label: 'Diff No Name' });
        delete b.name;
        return b;
      },
    },
    {
      label: 'POST /flows (missing name and label)',
      method: 'POST',
      path: () => `${AWEL}/flows`,
      body: () => {
        const b = simpleChatBody('flowreg-diff-nolabel', 'x', { state: 'developing' });
        delete b.name;
        delete b.label;
        return b;
      },
    },
    { label: 'POST /flows (name with a space)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody('flowreg-diff-space', 'diff spaced', { state: 'developing' }) },
    { label: 'POST /flows (bad uid)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody('../bad uid', 'diff_bad_uid', { state: 'developing' }) },
    { label: 'POST /flows (duplicate uid)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody(U.developing, 'diff_dup_uid', { state: 'developing' }) },
    { label: 'POST /flows (duplicate name)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody('flowreg-diff-dupname', 'diff_deployed', { state: 'developing' }) },
    { label: 'POST /flows (invalid JSON)', method: 'POST', path: () => `${AWEL}/flows`, body: () => '{"uid": "x", ' },
    { label: 'POST /flows (no flow_data)', method: 'POST', path: () => `${AWEL}/flows`, body: () => ({ uid: 'flowreg-diff-nodata', name: 'diff_nodata', label: 'No data', state: 'developing' }) },
    { label: 'POST /flows (state not a state)', method: 'POST', path: () => `${AWEL}/flows`, body: () => simpleChatBody('flowreg-diff-state', 'diff_state', { state: 'sleeping' }) },
    {
      label: 'POST /flows (unknown operator, deployed)',
      method: 'POST',
      path: () => `${AWEL}/flows`,
      body: () => {
        const b = simpleChatBody('flowreg-diff-badop', 'diff_bad_operator');
        (b.flow_data as { nodes: Array<{ data: { name: string } }> }).nodes[1]!.data.name = 'no_such_operator';
        return b;
      },
    },
    { label: 'GET /flows/{uid} (unknown uid)', method: 'GET', path: () => `${AWEL}/flows/${U.missing}` },
    { label: 'GET /flows?page=0', method: 'GET', path: () => `${AWEL}/flows?page=0` },
    { label: 'GET /flows?page_size=abc', method: 'GET', path: () => `${AWEL}/flows?page_size=abc` },
    // chat
    { label: 'POST /api/v2/chat/completions (deployed flow)', method: 'POST', path: () => '/api/v2/chat/completions', body: () => chatBody(U.deployed, model, false, 'conv-diff-1') },
    { label: 'POST /api/v2/chat/completions (flow not deployed)', method: 'POST', path: () => '/api/v2/chat/completions', body: () => chatBody(U.developing, model, false, 'conv-diff-2') },
    { label: 'POST /api/v2/chat/completions (flow not deployed, stream)', method: 'POST', path: () => '/api/v2/chat/completions', body: () => chatBody(U.developing, model, true, 'conv-diff-3') },
    { label: 'POST /api/v2/chat/completions (unknown uid)', method: 'POST', path: () => '/api/v2/chat/completions', body: () => chatBody(U.missing, model, false, 'conv-diff-4') },
    { label: 'POST /api/v2/chat/completions (no chat_param)', method: 'POST', path: () => '/api/v2/chat/completions', body: () => chatBody(null, model, false, 'conv-diff-5') },
    // delete
    { label: 'DELETE /flows/{uid}', method: 'DELETE', path: () => `${AWEL}/flows/${U.deployed}` },
    { label: 'DELETE /flows/{uid} (again)', method: 'DELETE', path: () => `${AWEL}/flows/${U.deployed}` },
    { label: 'GET /flows/{uid} (deleted)', method: 'GET', path: () => `${AWEL}/flows/${U.deployed}` },
    { label: 'GET /flows (at the end)', method: 'GET', path: () => `${AWEL}/flows` },
  ];
}

describeDbgpt('DB-GPT 0.8.2 and flowreg answer the same requests alike, but for the differences docs/api.md lists', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  let flowreg: FlowregServer;
  const differences: Difference[] = [];

  beforeAll(async () => {
    llm = await startStubLlm();
    [db, flowreg] = await Promise.all([startDbgpt({ llmUrl: llm.url }), startFlowreg({ templates: join(sitePackages(dbgptVenv()), 'dbgpt_serve', 'flow', 'templates', 'en') })]);
    const sides: Side[] = [
      { name: 'DB-GPT', base: db.url, generated: new Map(), replace: new Map(), answers: new Map() },
      { name: 'flowreg', base: flowreg.url, generated: new Map(), replace: new Map(), answers: new Map() },
    ];
    for (const step of steps(db.model)) {
      for (const side of sides) {
        const a = await call(side.base, step.method, step.path(side), { ...(step.body ? { body: step.body(side) } : {}), ...(step.headers ? { headers: step.headers } : {}) }).catch((err: unknown) => {
          throw new Error(`${step.label} to ${side.name} failed: ${String(err)} (${String((err as { cause?: unknown }).cause)})${side.name === 'DB-GPT' ? `\nDB-GPT's output:\n${db.logTail(40)}` : ''}`);
        });
        side.answers.set(step.label, a);
        step.after?.(side, a);
      }
      // Writes one second apart: flowreg's times are commit times, in whole seconds, and list order follows them.
      if (step.method !== 'GET') await new Promise((r) => setTimeout(r, 1020 - (Date.now() % 1000)));
      const [d, f] = sides as [Side, Side];
      differences.push(...diffLeaves(step.label, leavesOf(d.answers.get(step.label)!, d.replace), leavesOf(f.answers.get(step.label)!, f.replace)));
    }
    // FLOWREG_DIFF_DUMP=<file>: every difference found, as table rows (to review when the table needs updating).
    if (process.env.FLOWREG_DIFF_DUMP) writeFileSync(process.env.FLOWREG_DIFF_DUMP, `${differences.map(asRow).join('\n')}\n`);
  }, 360_000); // DB-GPT's start (up to 180 s on a loaded machine), then ~50 requests a side, writes a second apart

  afterAll(async () => {
    await db?.stop();
    await llm?.close();
    await flowreg?.close();
  }, 60_000);

  it('every difference is listed in docs/api.md', () => {
    const rows = parseKnownDifferences(readFileSync(API_DOC, 'utf8'));
    const unlisted = differences.filter((d) => !rows.some((r) => covers(r, d)));
    if (unlisted.length > 0) {
      console.error(`${unlisted.length} difference(s) between DB-GPT and flowreg that docs/api.md does not list (rows to paste into its table):\n${unlisted.map(asRow).join('\n')}`);
    }
    expect(unlisted.map(asRow)).toEqual([]);
  });

  it('every row of the table still matches a difference (but those marked "per server")', () => {
    const rows = parseKnownDifferences(readFileSync(API_DOC, 'utf8'));
    const stale = rows.filter((r) => !r.what.startsWith('per server') && !differences.some((d) => covers(r, d)));
    expect(stale.map((r) => `docs/api.md:${r.line}: | ${r.request} | ${r.path} | ${r.what} |`)).toEqual([]);
  });
});

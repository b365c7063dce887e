import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadServeConfig } from '../../src/config/loadServeConfig.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { contentDigest, deployBody, parseProvenance, sourceUrl } from '../../src/runtime/provenance.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { corpusFlow } from '../helpers/flows.ts';
import type { JsonObject } from '../../src/core/types.ts';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isFlowregError(err, 'USAGE')) return err.message;
    throw err;
  }
  throw new Error('expected a USAGE error');
}

describe('runtime options', () => {
  it('reads --runtime (repeated and comma lists), names them, and takes each key from FLOWREG_RUNTIME_KEY_<NAME> only', async () => {
    const repo = await inProcessRepo();
    const c = loadServeConfig({ flags: { repo, runtimes: 'http://127.0.0.1:5670/,b-2=https://dbgpt.example.com/base/' }, env: { FLOWREG_RUNTIME_KEY_B_2: ' sk-b ' }, cwd: repo });
    expect(c.runtimes).toEqual([
      { name: 'rt1', url: 'http://127.0.0.1:5670', apiKey: null },
      { name: 'b-2', url: 'https://dbgpt.example.com/base', apiKey: 'sk-b' },
    ]);
    expect(c.runtimeInterval).toBe(15);
    expect(c.drift).toBe('heal');
    const fromEnv = loadServeConfig({ flags: { repo }, env: { FLOWREG_RUNTIMES: 'a=http://h:1', FLOWREG_DRIFT: 'report', FLOWREG_RUNTIME_INTERVAL: '5' }, cwd: repo });
    expect(fromEnv).toMatchObject({ runtimes: [{ name: 'a', url: 'http://h:1', apiKey: null }], drift: 'report', runtimeInterval: 5 });
  });

  it('takes runtime objects with a key file from the config file', async () => {
    const repo = await inProcessRepo();
    writeFileSync(join(repo, 'a.key'), 'sk-file\n');
    writeFileSync(join(repo, 'flowreg.config.json'), JSON.stringify({ runtimes: [{ name: 'a', url: 'http://h:1', apiKeyFile: 'a.key' }, 'http://h:2'] }));
    const c = loadServeConfig({ flags: { repo }, env: {}, cwd: repo });
    expect(c.runtimes).toEqual([
      { name: 'a', url: 'http://h:1', apiKey: 'sk-file' },
      { name: 'rt2', url: 'http://h:2', apiKey: null },
    ]);
  });

  it('refuses bad runtime URLs at startup, saying where and why, without echoing credentials', async () => {
    const repo = await inProcessRepo();
    const load = (runtimes: string) => () => loadServeConfig({ flags: { repo, runtimes }, env: {}, cwd: repo });
    expect(usage(load('ftp://h'))).toBe('--runtime: a runtime URL must be http or https, got "ftp://h"');
    expect(usage(load('not a url'))).toMatch(/^--runtime: expected the http\(s\) URL of a DB-GPT webserver/);
    const creds = usage(load('http://user:secret@h:1'));
    expect(creds).toMatch(/^--runtime: a runtime URL cannot hold credentials/);
    expect(creds).not.toContain('secret');
    expect(usage(load('http://h:1?x=1'))).toMatch(/without \?query/);
    expect(usage(load('a=http://h:1,a=http://h:2'))).toBe('--runtime: runtime name a is given twice');
    expect(usage(load('http://h:1,http://h:1/'))).toBe('--runtime: runtime http://h:1 is given twice');
    expect(usage(() => loadServeConfig({ flags: { repo, drift: 'fix' }, env: {}, cwd: repo }))).toBe('--drift: expected heal, report or prune, got "fix"');
  });

  it('accepts --runtime several times on the command line', async () => {
    const repo = await inProcessRepo();
    let err = '';
    // a port in use elsewhere is not needed: --help-like failure is enough to see the parse; use a bad drift to stop before listening
    const code = await main(['serve', '--repo', repo, '--runtime', 'a=http://h:1', '--runtime', 'http://h:2', '--drift', 'nope'], { cwd: repo, env: {}, stdout: () => undefined, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toContain('--drift: expected heal, report or prune');
  });
});

describe('provenance', () => {
  const flow = corpusFlow('simple_streaming_chat_flow.json') as JsonObject;

  it('round-trips through source_url and marks the body deployed', () => {
    const p = { owner: 'https://git.example.com/team/flows.git', path: 'flows/a b.yaml', commit: 'a'.repeat(40), digest: contentDigest(flow) };
    const body = deployBody(flow as never, p);
    expect(body).toMatchObject({ state: 'deployed', source: 'flowreg', version: 'aaaaaaaaaaaa', source_url: sourceUrl(p) });
    expect(body).not.toHaveProperty('dag_id');
    expect(body).not.toHaveProperty('metadata');
    expect(parseProvenance(body)).toEqual(p);
    expect(parseProvenance({ ...body, source: 'DBGPT-WEB' })).toBeNull();
    expect(parseProvenance({ ...body, source_url: 'https://example.com' })).toBeNull();
  });

  it('digests content only: equal for key order and absent defaults, different after an edit', () => {
    const d = contentDigest(flow);
    const reordered = Object.fromEntries(Object.entries(flow).reverse());
    expect(contentDigest({ ...reordered, gmt_modified: 'x', state: 'running', metadata: { a: 1 } })).toBe(d);
    const { editable: _e, define_type: _d, ...without } = flow as Record<string, unknown>;
    expect(contentDigest(without as never)).toBe(d);
    expect(contentDigest({ ...flow, description: 'other' })).not.toBe(d);
    const nodes = structuredClone(flow.flow_data) as { nodes: Array<{ position: { x: number } }> };
    nodes.nodes[0]!.position.x += 1;
    expect(contentDigest({ ...flow, flow_data: nodes } as never)).not.toBe(d);
  });

  it('takes a key that is null for a key left out at every depth, as DB-GPT answers optional node fields (ui, alias) as null', () => {
    const d = contentDigest(flow);
    const withNulls = structuredClone(flow.flow_data) as { nodes: Array<{ data: { parameters: Array<Record<string, unknown>> } }> };
    let added = 0;
    for (const n of withNulls.nodes) {
      for (const p of n.data.parameters ?? []) {
        for (const k of ['ui', 'alias', 'not_a_field']) {
          if (p[k] === undefined) {
            p[k] = null;
            added++;
          }
        }
      }
    }
    expect(added).toBeGreaterThan(10);
    expect(contentDigest({ ...flow, flow_data: withNulls } as never)).toBe(d);
    // a value that is there is content: null in an array, or a parameter's value set
    const changed = structuredClone(withNulls);
    changed.nodes[1]!.data.parameters[0]!.not_a_field = 'slider';
    expect(contentDigest({ ...flow, flow_data: changed } as never)).not.toBe(d);
  });
});

/** One flow: its fields, the graph (pan, zoom, click a node), its YAML, export, and DB-GPT's UI when a runtime has it. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, BASE, call } from '../api.ts';
import { GraphView } from '../graph.tsx';
import { Link, useLive } from '../router.tsx';
import { short, type Flow } from '../types.ts';

type Rec = Record<string, unknown>;
const FIELDS = ['uid', 'name', 'label', 'description', 'flow_category', 'state', 'error_message', 'version', 'gmt_created', 'gmt_modified', 'editable', 'user_name', 'sys_code', 'dag_id', 'source', 'source_url'];

export function nodeOf(flow: Rec, id: string): Rec | undefined {
  const nodes = ((flow.flow_data as Rec | undefined)?.nodes as Rec[] | undefined) ?? [];
  return nodes.find((n) => n.id === id);
}

export function NodePanel({ node }: { node: Rec }) {
  const data = (node.data as Rec | undefined) ?? {};
  const params = (data.parameters as Rec[] | undefined) ?? [];
  const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return (
    <aside class="node-panel" aria-label="Node" data-testid="node-panel" tabIndex={0}>
      <h3>{text(data.label) || text(node.id)}</h3>
      <p class="sub"><code>{text(node.id)}</code> · {text(data.flow_type)} · {text(data.type_name)}</p>
      {params.length === 0 ? <p>No parameters.</p> : (
        <table>
          <thead><tr><th scope="col">Parameter</th><th scope="col">Value</th></tr></thead>
          <tbody>
            {params.map((p) => (
              <tr><th scope="row">{text(p.label) || text(p.name)}</th><td><code>{text(p.value ?? p.default)}</code></td></tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}

export function FlowPage({ uid }: { uid: string }) {
  const live = useLive();
  const [flow, setFlow] = useState<Flow | null>(null);
  const [yaml, setYaml] = useState<string>('');
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<string | null>(null);
  const [dbgpt, setDbgpt] = useState<string | null>(null);

  useEffect(() => {
    api<Flow>(`flows/${encodeURIComponent(uid)}`)
      .then(({ data }) => {
        setFlow(data);
        setError(null);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
    call(`${BASE}/flows/${encodeURIComponent(uid)}`, { headers: { Accept: 'application/yaml' } })
      .then(async (r) => setYaml(r.ok ? await r.text() : ''))
      .catch(() => setYaml(''));
  }, [uid, live.tick]);

  useEffect(() => {
    api<{ runtimes: Array<{ url: string; flows?: Array<{ uid: string; live: boolean }> }> }>('runtimes')
      .then(({ data }) => {
        const rt = data.runtimes.find((r) => r.flows?.some((f) => f.uid === uid && f.live)) ?? data.runtimes[0];
        setDbgpt(rt ? `${rt.url.replace(/\/+$/, '')}/construct/flow/canvas?id=${encodeURIComponent(uid)}` : null);
      })
      .catch(() => setDbgpt(null));
  }, [uid, live.tick]);

  const exportFile = async (): Promise<void> => {
    const r = await call(`${BASE}/flow/export/${encodeURIComponent(uid)}?format=file`);
    if (!r.ok) return;
    const name = /filename="?([^";]+)"?/.exec(r.headers.get('content-disposition') ?? '')?.[1] ?? `${uid}.json`;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!flow) return <p aria-busy="true">Loading…</p>;
  const node = picked ? nodeOf(flow, picked) : undefined;
  const title = String(flow.label || flow.name || uid);
  return (
    <article aria-labelledby="flow-title">
      <p class="crumbs"><Link href="/">Flows</Link> / {flow.name}</p>
      <h1 id="flow-title">{title}</h1>
      <div class="actions">
        <Link class="button" href={`/flow/${encodeURIComponent(uid)}/history`}>History</Link>
        <button type="button" onClick={() => void exportFile()}>Export (DB-GPT JSON)</button>
        {dbgpt ? <a class="button" href={dbgpt} target="_blank" rel="noopener">Open in DB-GPT</a> : null}
      </div>
      {flow.state === 'load_failed' && typeof flow.error_message === 'string' ? (
        <p class="error" role="note" data-testid="flow-error">Quarantined: {flow.error_message}</p>
      ) : null}
      <h2>Graph</h2>
      <div class="graph-row">
        <GraphView flow={flow} label={`Graph of ${title}`} selected={picked} onNode={setPicked} />
        {node ? <NodePanel node={node} /> : null}
      </div>
      <NodeList flow={flow} onPick={setPicked} />
      <h2>Fields</h2>
      <table class="fields">
        <tbody>
          {FIELDS.map((k) => (
            <tr><th scope="row">{k}</th><td>{k === 'version' ? <code>{short(String(flow[k] ?? ''))}</code> : flow[k] === null || flow[k] === undefined ? '' : String(flow[k])}</td></tr>
          ))}
        </tbody>
      </table>
      <h2>YAML</h2>
      <pre class="yaml" data-testid="yaml" tabIndex={0} aria-label="The flow file">{yaml}</pre>
    </article>
  );
}

/** Every node as a button: the keyboard's way to a node's parameters. */
export function NodeList({ flow, onPick }: { flow: Rec; onPick: (id: string) => void }) {
  const nodes = ((flow.flow_data as Rec | undefined)?.nodes as Rec[] | undefined) ?? [];
  return (
    <details class="nodelist">
      <summary>Nodes ({nodes.length})</summary>
      <ul>
        {nodes.map((n) => (
          <li><button type="button" class="link" onClick={() => onPick(String(n.id))}>{String((n.data as Rec | undefined)?.label ?? n.id)}</button></li>
        ))}
      </ul>
    </details>
  );
}

/**
 * A flow's history (every commit that touched it, renames followed by the daemon), a compare of
 * any two versions — the semantic diff of `flowreg diff` and the graph with added, removed and
 * changed nodes and edges coloured (layout-only moves are not changes) — and revert, confirmed in
 * a dialog and sent with If-Match: a 412 is shown as a conflict.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { describeCounts, diffDescribe } from '../../../src/core/diffDescribe.ts';
import type { FlowDiff } from '../../../src/core/diffFlows.ts';
import { api, ApiError } from '../api.ts';
import { GraphView, unionFlow, type Status } from '../graph.tsx';
import { Link, useLive } from '../router.tsx';
import { short, type Flow, type VersionEntry } from '../types.ts';
import { NodePanel, nodeOf } from './flow.tsx';

interface Compare {
  from: string;
  to: string;
  diff: FlowDiff;
  before: Flow | null;
  after: Flow | null;
  ms: number;
}

export function HistoryPage({ uid }: { uid: string }) {
  const live = useLive();
  const enc = encodeURIComponent(uid);
  const [versions, setVersions] = useState<VersionEntry[] | null>(null);
  const [current, setCurrent] = useState<{ flow: Flow; etag: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const [cmp, setCmp] = useState<Compare | null>(null);
  const [confirming, setConfirming] = useState<VersionEntry | null>(null);
  const [outcome, setOutcome] = useState<{ kind: 'done' | 'conflict' | 'error'; text: string } | null>(null);
  const [picked, setPicked] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api<{ items: VersionEntry[] }>(`flows/${enc}/versions?page_size=1000`), api<Flow>(`flows/${enc}`)])
      .then(([v, f]) => {
        setVersions(v.data.items);
        setCurrent({ flow: f.data, etag: f.etag });
        setError(null);
        setFrom((x) => x ?? v.data.items[1]?.version ?? null);
        setTo((x) => x ?? v.data.items[0]?.version ?? null);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [uid, live.tick]);

  const compare = async (): Promise<void> => {
    if (!from || !to) return;
    const t0 = performance.now();
    const [d, b, a] = await Promise.all([
      api<FlowDiff>(`flows/${enc}/diff?from=${from}&to=${to}`),
      api<Flow>(`flows/${enc}?version=${from}`).then((r) => r.data, () => null),
      api<Flow>(`flows/${enc}?version=${to}`).then((r) => r.data, () => null),
    ]);
    setPicked(null);
    setCmp({ from, to, diff: d.data, before: b, after: a, ms: performance.now() - t0 });
  };

  const revert = async (v: VersionEntry): Promise<void> => {
    setConfirming(null);
    try {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (current?.etag) headers['If-Match'] = current.etag;
      const r = await api<Flow>(`flows/${enc}/revert`, { method: 'POST', headers, body: JSON.stringify({ version: v.version }) });
      setOutcome({ kind: 'done', text: `Reverted to ${short(v.version)}: new version ${short(r.data.version ?? r.etag ?? '')}.` });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 412 || err.status === 409)) {
        setOutcome({ kind: 'conflict', text: `Conflict: the flow changed since this page read it (${err.message}). The history below is current again; check it and revert again if you still want to.` });
      } else setOutcome({ kind: 'error', text: err instanceof Error ? err.message : String(err) });
    }
  };

  if (error) return <p role="alert" class="error">{error}</p>;
  if (!versions || !current) return <p aria-busy="true">Loading…</p>;
  const title = String(current.flow.label || current.flow.name || uid);
  return (
    <article aria-labelledby="history-title">
      <p class="crumbs"><Link href="/">Flows</Link> / <Link href={`/flow/${enc}`}>{current.flow.name}</Link> / history</p>
      <h1 id="history-title">History of {title}</h1>
      {outcome ? <p role={outcome.kind === 'done' ? 'status' : 'alert'} class={outcome.kind === 'done' ? 'ok' : outcome.kind} data-testid="outcome">{outcome.text}</p> : null}
      <table class="history" data-testid="history">
        <thead>
          <tr><th scope="col">From</th><th scope="col">To</th><th scope="col">Version</th><th scope="col">Message</th><th scope="col">Author</th><th scope="col">Time</th><th scope="col"><span class="sr">Actions</span></th></tr>
        </thead>
        <tbody>
          {versions.map((v, i) => (
            <tr data-version={v.version}>
              <td><input type="radio" name="from" aria-label={`compare from ${short(v.version)}`} checked={from === v.version} onChange={() => setFrom(v.version)} /></td>
              <td><input type="radio" name="to" aria-label={`compare to ${short(v.version)}`} checked={to === v.version} onChange={() => setTo(v.version)} /></td>
              <td><code>{short(v.version)}</code>{i === 0 && current.flow.version === v.version ? ' (current)' : ''}</td>
              <td>{v.message.split('\n')[0]}</td>
              <td>{v.author}</td>
              <td><time>{v.gmt_created}</time></td>
              <td>{i === 0 && current.flow.version === v.version ? null : <button type="button" onClick={() => setConfirming(v)} aria-label={`Revert to ${short(v.version)}`}>Revert</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="actions">
        <button type="button" disabled={!from || !to || from === to} onClick={() => void compare()} data-testid="compare">Compare {short(from)} → {short(to)}</button>
      </div>
      {confirming ? (
        <div class="dialog-backdrop">
          <div role="dialog" aria-modal="true" aria-labelledby="confirm-title" class="dialog">
            <h2 id="confirm-title">Revert {title}?</h2>
            <p>The content of version <code>{short(confirming.version)}</code> ({confirming.message.split('\n')[0]}) becomes current, as one new commit. It is sent with If-Match <code>{current.etag}</code>: if the flow changed meanwhile, nothing is written.</p>
            <div class="actions">
              <button type="button" class="primary" onClick={() => void revert(confirming)}>Revert</button>
              <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
            </div>
          </div>
        </div>
      ) : null}
      {cmp ? <CompareView cmp={cmp} picked={picked} onPick={setPicked} /> : null}
    </article>
  );
}

function CompareView({ cmp, picked, onPick }: { cmp: Compare; picked: string | null; onPick: (id: string) => void }) {
  const { diff } = cmp;
  const lines = useMemo(() => diffDescribe(diff), [diff]);
  const flow = useMemo(() => unionFlow(cmp.before, cmp.after), [cmp]);
  const nodeStatus = useMemo(() => new Map<string, Status>(diff.graph.nodes.map((n) => [n.id, n.status])), [diff]);
  const edgeStatus = useMemo(() => new Map<string, Status>(diff.graph.edges.map((e) => [e.id, e.status])), [diff]);
  useEffect(() => {
    // the compare is drawn once the browser has painted it: the page's own measure (bench/web.ts reads it)
    requestAnimationFrame(() => {
      document.body.dataset.compareMs = String(Math.round(performance.now()));
    });
  }, [cmp]);
  const node = picked ? nodeOf(cmp.after ?? {}, picked) ?? nodeOf(cmp.before ?? {}, picked) : undefined;
  return (
    <section aria-labelledby="compare-title" data-testid="compare-view">
      <h2 id="compare-title">{short(cmp.from)} → {short(cmp.to)}</h2>
      <p data-testid="counts">{describeCounts(diff.counts) || 'no changes'}{diff.layoutChanged ? ' (layout moves not shown)' : ''}</p>
      <ul class="legend" aria-label="Legend">
        <li><span class="sw st-added" /> added</li>
        <li><span class="sw st-removed" /> removed</li>
        <li><span class="sw st-changed" /> changed</li>
      </ul>
      <div class="graph-row">
        <GraphView flow={flow} nodeStatus={nodeStatus} edgeStatus={edgeStatus} label={`Changes from ${short(cmp.from)} to ${short(cmp.to)}`} selected={picked} onNode={onPick} />
        {node ? <NodePanel node={node} /> : null}
      </div>
      <table class="changes" data-testid="changes">
        <thead><tr><th scope="col"><span class="sr">Kind</span></th><th scope="col">What</th><th scope="col">Change</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
        <tbody>
          {lines.map((c) => (
            <tr class={c.op === '+' ? 'add' : c.op === '-' ? 'del' : 'mod'}>
              <td aria-label={c.op === '+' ? 'added' : c.op === '-' ? 'removed' : 'changed'}>{c.op}</td>
              <td>{c.subject}</td>
              <td>{c.what}</td>
              <td><code>{c.before ?? ''}</code></td>
              <td><code>{c.after ?? ''}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

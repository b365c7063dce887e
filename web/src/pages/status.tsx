/** Sync (remote, branch, ahead/behind, last fetch and push, errors, pending branch-mode changes) and runtimes (per flow and runtime: commit deployed, live, error, drift). */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Link, useLive } from '../router.tsx';
import { short, where, type Finding } from '../types.ts';

function usePolled<T>(path: string, everyMs: number): { data: T | null; error: string | null } {
  const live = useLive();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [beat, setBeat] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setBeat((b) => b + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  useEffect(() => {
    api<T>(path)
      .then(({ data: d }) => {
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : String(err)));
  }, [path, live.tick, live.runtimeTick, beat]);
  return { data, error };
}

interface SyncEvent {
  time: number;
  error: string | null;
}
interface SyncStatus {
  branch: string | null;
  head: string | null;
  remote: string | null;
  remoteHead?: string | null;
  ahead?: number;
  behind?: number;
  diverged?: boolean;
  writeMode?: string;
  lastFetch?: SyncEvent | null;
  lastPush?: SyncEvent | null;
  lastGc?: SyncEvent | null;
  blocked?: string | null;
  pending?: Array<{ branch: string; commit: string; uid: string; name: string; time: number }>;
  invalid_flows: Array<{ uid: string; path: string; findings: Finding[] }>;
}

const when = (e: SyncEvent | null | undefined): string => (e ? new Date(e.time).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'never');

/** A web link to a branch on the remote, for hosts that show one at <repo>/tree/<branch> (GitHub, Gitea, GitLab). */
function branchUrl(remote: string | null, branch: string): string | null {
  if (remote === null || !/^https?:\/\//.test(remote)) return null;
  return `${remote.replace(/\.git$/, '').replace(/\/+$/, '')}/tree/${branch}`;
}

export function SyncPage() {
  const { data, error } = usePolled<SyncStatus>('sync', 5000);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const row = (k: string, v: ComponentChildren) => <tr><th scope="row">{k}</th><td>{v}</td></tr>;
  const err = (e: SyncEvent | null | undefined) => (e?.error ? <span class="bad-text">{e.error}</span> : 'no error');
  return (
    <section aria-labelledby="sync-title">
      <h1 id="sync-title">Sync</h1>
      <table class="fields" data-testid="sync">
        <tbody>
          {row('remote', data.remote ?? 'none (local repository only)')}
          {row('branch', data.branch ?? 'detached')}
          {row('head', <code>{short(data.head)}</code>)}
          {row('remote head', <code>{short(data.remoteHead ?? '')}</code>)}
          {row('ahead / behind', `${data.ahead ?? 0} / ${data.behind ?? 0}${data.diverged ? ' (diverged)' : ''}`)}
          {row('write mode', data.writeMode ?? 'direct')}
          {row('last fetch', <>{when(data.lastFetch)} · {err(data.lastFetch)}</>)}
          {row('last push', <>{when(data.lastPush)} · {err(data.lastPush)}</>)}
          {row('fast-forward blocked', data.blocked ?? 'no')}
        </tbody>
      </table>
      <h2>Pending branch-mode changes</h2>
      {(data.pending ?? []).length === 0 ? <p>None.</p> : (
        <ul data-testid="pending">
          {(data.pending ?? []).map((p) => {
            const url = branchUrl(data.remote, p.branch);
            return (
              <li>
                {url ? <a href={url} target="_blank" rel="noopener">{p.branch}</a> : <code>{p.branch}</code>} — <Link href={`/flow/${encodeURIComponent(p.uid)}`}>{p.name}</Link>, <code>{short(p.commit)}</code>, {when({ time: p.time, error: null })}
              </li>
            );
          })}
        </ul>
      )}
      <h2>Quarantined files</h2>
      {data.invalid_flows.length === 0 ? <p>None.</p> : (
        <ul>
          {data.invalid_flows.map((f) => (
            <li>
              <Link href={`/flow/${encodeURIComponent(f.uid)}`}>{f.path}</Link>
              {f.findings.slice(0, 3).map((x) => <div class="finding"><code>{where(x)}</code> {x.code}: {x.message}</div>)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

interface RuntimeReport {
  runtimes: Array<{
    name: string;
    url: string;
    up: boolean;
    error: string | null;
    last_pass: { time?: number | string; duration_ms?: number } | null;
    live: number;
    failed: Array<{ uid: string; error: string }>;
    unmanaged: Array<{ uid: string; name: string | null }>;
    flows?: Array<{ uid: string; name: string | null; commit: string; live: boolean }>;
  }>;
  drift: Array<{ runtime: string; uid: string; name: string | null; kind: string; action: string; detected_at?: unknown; resolved_at?: unknown }>;
}

export function RuntimesPage() {
  // changes come as runtime events; the slow poll only refreshes the time of each runtime's last pass
  const { data, error } = usePolled<RuntimeReport>('runtimes', 30_000);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!data) return <p aria-busy="true">Loading…</p>;
  return (
    <section aria-labelledby="rt-title">
      <h1 id="rt-title">Runtimes</h1>
      {data.runtimes.length === 0 ? <p data-testid="no-runtimes">No runtime is configured (start flowreg with <code>--runtime URL</code>; docs/runtimes.md).</p> : null}
      {data.runtimes.map((rt) => (
        <section aria-label={`Runtime ${rt.name}`} class="runtime">
          <h2>{rt.name} <span class={`badge ${rt.up ? '' : 'bad'}`}>{rt.up ? 'up' : 'down'}</span></h2>
          <p><a href={rt.url} target="_blank" rel="noopener">{rt.url}</a>{rt.error ? <> · <span class="bad-text">{rt.error}</span></> : null} · {rt.live} live</p>
          <table>
            <thead><tr><th scope="col">Flow</th><th scope="col">Commit deployed</th><th scope="col">Live</th><th scope="col">Runtime's error</th></tr></thead>
            <tbody>
              {(rt.flows ?? []).map((f) => (
                <tr><td><Link href={`/flow/${encodeURIComponent(f.uid)}`}>{f.name ?? f.uid}</Link></td><td><code>{short(f.commit)}</code></td><td>{f.live ? 'live' : 'not live'}</td><td>{rt.failed.find((x) => x.uid === f.uid)?.error ?? ''}</td></tr>
              ))}
              {rt.failed.filter((x) => !(rt.flows ?? []).some((f) => f.uid === x.uid)).map((x) => (
                <tr><td><Link href={`/flow/${encodeURIComponent(x.uid)}`}>{x.uid}</Link></td><td /><td>refused</td><td class="bad-text">{x.error}</td></tr>
              ))}
            </tbody>
          </table>
          {rt.unmanaged.length > 0 ? <p>Not put there by flowreg: {rt.unmanaged.map((u) => u.name ?? u.uid).join(', ')}</p> : null}
        </section>
      ))}
      <h2>Drift</h2>
      {data.drift.length === 0 ? <p>None.</p> : (
        <table>
          <thead><tr><th scope="col">Runtime</th><th scope="col">Flow</th><th scope="col">Kind</th><th scope="col">Action</th></tr></thead>
          <tbody>
            {data.drift.map((d) => <tr><td>{d.runtime}</td><td>{d.name ?? d.uid}</td><td>{d.kind}</td><td>{d.action}{d.resolved_at ? ' (resolved)' : ''}</td></tr>)}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The flows page: search, filters (category, state, quarantined), one page of 50 from the daemon. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { Link, navigate, useLive, useLocation } from '../router.tsx';
import { short, where, type BrowsePage } from '../types.ts';

const PAGE_SIZE = 50;

export function FlowsPage() {
  const { query } = useLocation();
  const live = useLive();
  const [q, setQ] = useState(query.get('q') ?? '');
  const [category, setCategory] = useState(query.get('category') ?? '');
  const [state, setState] = useState(query.get('state') ?? '');
  const [quarantined, setQuarantined] = useState(query.get('quarantined') ?? '');
  const [page, setPage] = useState(Number(query.get('page') ?? '1') || 1);
  const [data, setData] = useState<BrowsePage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [debounced, setDebounced] = useState(q);
  const seq = useRef(0);

  useEffect(() => {
    const t = setTimeout(() => setDebounced(q), 120);
    return () => clearTimeout(t);
  }, [q]);

  useEffect(() => {
    const params = new URLSearchParams();
    if (debounced) params.set('q', debounced);
    if (category) params.set('category', category);
    if (state) params.set('state', state);
    if (quarantined) params.set('quarantined', quarantined);
    if (page > 1) params.set('page', String(page));
    const search = params.toString();
    if (search !== location.search.slice(1)) history.replaceState(null, '', search ? `/?${search}` : '/');
    params.set('page_size', String(PAGE_SIZE));
    params.set('page', String(page));
    const mine = ++seq.current;
    api<BrowsePage>(`web/flows?${params}`)
      .then(({ data: d }) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => mine === seq.current && setError(err instanceof ApiError ? err.message : String(err)));
  }, [debounced, category, state, quarantined, page, live.tick]);

  const reset = (fn: (v: string) => void) => (e: Event) => {
    fn((e.target as HTMLSelectElement).value);
    setPage(1);
  };
  return (
    <section aria-labelledby="flows-title">
      <h1 id="flows-title">Flows</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={q} placeholder="name, label, uid, description" onInput={(e) => { setQ((e.target as HTMLInputElement).value); setPage(1); }} />
        </label>
        <label>
          Category
          <select value={category} onChange={reset(setCategory)}>
            <option value="">any</option>
            {(data?.categories ?? []).map((c) => <option value={c}>{c}</option>)}
          </select>
        </label>
        <label>
          State
          <select value={state} onChange={reset(setState)}>
            <option value="">any</option>
            {(data?.states ?? []).map((c) => <option value={c}>{c}</option>)}
          </select>
        </label>
        <label>
          Quarantined
          <select value={quarantined} onChange={reset(setQuarantined)}>
            <option value="">any</option>
            <option value="true">only quarantined</option>
            <option value="false">not quarantined</option>
          </select>
        </label>
      </form>
      {error ? <p role="alert" class="error">{error}</p> : null}
      {data === null ? <p aria-busy="true">Loading…</p> : (
        <>
          <p class="count" data-testid="count">
            {data.total_count} flow{data.total_count === 1 ? '' : 's'}
            {data.quarantined_count > 0 ? `, ${data.quarantined_count} quarantined in the repository` : ''}
          </p>
          <table class="flows" data-testid="flows">
            <thead>
              <tr><th scope="col">Flow</th><th scope="col">Category</th><th scope="col">State</th><th scope="col">Last commit</th></tr>
            </thead>
            <tbody>
              {data.items.map((f) => (
                <tr key={f.uid} data-uid={f.uid}>
                  <td>
                    <Link href={`/flow/${encodeURIComponent(f.uid)}`}>{f.label || f.name || f.uid}</Link>
                    <div class="sub">{f.name} · {f.path}</div>
                  </td>
                  <td>{f.flow_category ?? ''}</td>
                  <td>
                    {f.findings.length > 0 ? (
                      <span class="badge bad" data-testid="quarantined">quarantined (load_failed)</span>
                    ) : (
                      <span class="badge">{f.state ?? ''}</span>
                    )}
                    {f.findings.slice(0, 2).map((x) => (
                      <div class="finding"><code>{where(x)}</code> {x.code}: {x.message}</div>
                    ))}
                  </td>
                  <td>
                    {f.last_commit ? (
                      <>
                        <div>{f.last_commit.message.split('\n')[0]}</div>
                        <div class="sub">{f.last_commit.author} · <time>{f.last_commit.time}</time> · <code>{short(f.last_commit.version)}</code></div>
                      </>
                    ) : <span class="sub">not committed</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
            <span>page {data.page} of {Math.max(1, data.total_pages)}</span>
            <button type="button" disabled={page >= data.total_pages} onClick={() => setPage(page + 1)}>Next</button>
          </nav>
        </>
      )}
    </section>
  );
}

export const openFlow = (uid: string): void => navigate(`/flow/${encodeURIComponent(uid)}`);

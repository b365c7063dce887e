/** flowreg's web app: flows, one flow, history and compare, revert, sync and runtimes (docs/web.md). */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, followEvents, getKey, onUnauthorized, setKey } from './api.ts';
import { FlowPage } from './pages/flow.tsx';
import { FlowsPage } from './pages/flows.tsx';
import { HistoryPage } from './pages/history.tsx';
import { RuntimesPage, SyncPage } from './pages/status.tsx';
import { Link, LiveContext, useLocation, type Live } from './router.tsx';
import './style.css';

function KeyPrompt({ onDone, failed }: { onDone: () => void; failed: boolean }) {
  const [value, setValue] = useState('');
  return (
    <main id="main" class="keyprompt">
      <h1>flowreg</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setKey(value.trim());
          onDone();
        }}
      >
        <p>This registry needs an API key. It is kept for this tab only (sessionStorage) and sent with every request.</p>
        {failed && getKey() !== null ? <p role="alert" class="error">That key was refused.</p> : null}
        <label for="apikey">API key</label>
        <input id="apikey" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        <button type="submit">Use key</button>
      </form>
    </main>
  );
}

function App() {
  const { path } = useLocation();
  const [auth, setAuth] = useState<'checking' | 'ok' | 'needed'>('checking');
  const [live, setLive] = useState<Live>({ tick: 0, runtimeTick: 0, uids: new Set(), connected: false });

  const check = (): void => {
    setAuth('checking');
    api('/api/v2/serve/awel/web/flows?page_size=1')
      .then(() => setAuth('ok'))
      .catch((err: unknown) => setAuth(err instanceof ApiError && err.status === 401 ? 'needed' : 'ok'));
  };
  useEffect(() => {
    check();
    return onUnauthorized(() => setAuth('needed'));
  }, []);
  useEffect(() => {
    if (auth !== 'ok') return;
    return followEvents(
      (e) => setLive((l) => ({ ...l, tick: l.tick + 1, uids: new Set(e.uids), connected: true })),
      (connected) => setLive((l) => (l.connected === connected ? l : { ...l, connected })),
      () => setLive((l) => ({ ...l, runtimeTick: l.runtimeTick + 1 })),
    );
  }, [auth]);

  if (auth === 'checking') return <main id="main" aria-busy="true"><p>Loading…</p></main>;
  if (auth === 'needed') return <KeyPrompt onDone={check} failed={true} />;

  const m = /^\/flow\/([^/]+)(\/history)?\/?$/.exec(path);
  const page = m ? (m[2] ? <HistoryPage uid={decodeURIComponent(m[1] as string)} /> : <FlowPage uid={decodeURIComponent(m[1] as string)} />)
    : path === '/sync' ? <SyncPage />
    : path === '/runtimes' ? <RuntimesPage />
    : <FlowsPage />;
  const nav = (href: string, text: string, active: boolean) => (
    <li><Link href={href} aria-current={active ? 'page' : undefined}>{text}</Link></li>
  );
  return (
    <LiveContext.Provider value={live}>
      <header class="top">
        <a class="skip" href="#main">Skip to content</a>
        <span class="brand">flowreg</span>
        <nav aria-label="Main">
          <ul>
            {nav('/', 'Flows', path === '/' || path.startsWith('/flow/'))}
            {nav('/sync', 'Sync', path === '/sync')}
            {nav('/runtimes', 'Runtimes', path === '/runtimes')}
          </ul>
        </nav>
        <span class={`live ${live.connected ? 'on' : 'off'}`} data-testid="live" role="status">{live.connected ? 'live' : 'offline'}</span>
        {getKey() !== null ? (
          <button type="button" class="link" onClick={() => { setKey(null); check(); }}>Forget key</button>
        ) : null}
      </header>
      <main id="main">{page}</main>
    </LiveContext.Provider>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);

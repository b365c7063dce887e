/** A small history-API router: the app's paths are real URLs the daemon answers with index.html. */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  history.pushState(null, '', to);
  for (const fn of listeners) fn();
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [, set] = useState(0);
  useEffect(() => {
    const fn = (): void => set((n) => n + 1);
    listeners.add(fn);
    addEventListener('popstate', fn);
    return () => {
      listeners.delete(fn);
      removeEventListener('popstate', fn);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function Link({ href, children, class: cls, ...rest }: { href: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a
      href={href}
      class={cls}
      {...rest}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/** The live-update counters: `tick` is bumped by every change of flows the daemon's event stream reports, `runtimeTick` by every change of a runtime's status. */
export interface Live {
  tick: number;
  runtimeTick: number;
  uids: Set<string>;
  connected: boolean;
}
export const LiveContext = createContext<Live>({ tick: 0, runtimeTick: 0, uids: new Set(), connected: false });
export const useLive = (): Live => useContext(LiveContext);

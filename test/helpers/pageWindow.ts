/** The browser globals that page functions (page.evaluate) of the web tests and bench use: the root tsconfig has no DOM lib, so these are types only. */
export interface PageElement {
  value: string;
  textContent: string | null;
  click(): void;
  dispatchEvent(e: unknown): boolean;
}

export interface PageWindow {
  document: { querySelector(selector: string): PageElement | null; body: { dataset: Record<string, string | undefined> } };
  requestAnimationFrame(cb: () => void): void;
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  Event: new (type: string, init?: { bubbles?: boolean }) => unknown;
  marker?: number;
  axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> }> };
}

/** Options of waitFor beyond the deadline. */
export interface WaitForOptions {
  /** Milliseconds between two checks (default 20; a test measuring a latency polls finer). */
  every?: number;
  /** What is waited for, for the timeout message (default: the source text of `check`). */
  what?: string;
}

/**
 * Waits until `check` holds, with a deadline: calls it at once, then every `every` ms, and
 * resolves to the milliseconds elapsed until it held (so a test may also assert a latency).
 * Rejects when it still does not hold `ms` after the start, with an error naming what it
 * waited for (`what`, or the text of `check`). This is what tests wait with instead of a fixed
 * sleep: a condition is as fast as the code under test on a quiet machine and only as slow as
 * the deadline on a loaded one. An error thrown by `check` rejects at once.
 *
 * The third argument is the polling interval (a number) or options.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000, opts: number | WaitForOptions = {}): Promise<number> {
  const { every = 20, what } = typeof opts === 'number' ? { every: opts } : opts;
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start >= ms) throw new Error(`waitFor: timed out after ${ms} ms waiting for ${what ?? describeCheck(check)}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The source text of a condition, on one line and at most 200 characters. */
function describeCheck(check: () => unknown): string {
  const text = check.toString().replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

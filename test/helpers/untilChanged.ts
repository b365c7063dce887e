/** Waiting on the store's change stream instead of polling. */
import type { ChangeBatch, GitStore } from '../../src/store/GitStore.ts';

/**
 * Resolves with the milliseconds elapsed once `check` holds, checking it now and again after each
 * batch of changes the store publishes (an event, not a timer); rejects after `ms` naming `what`.
 */
export function untilChanged(store: GitStore, check: (batch: ChangeBatch | null) => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    let done = false;
    let queue = Promise.resolve();
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      if (err) reject(err);
      else resolve(Date.now() - start);
    };
    const test = (batch: ChangeBatch | null): void => {
      queue = queue.then(async () => {
        if (done) return;
        try {
          if (await check(batch)) finish(null);
        } catch (err) {
          finish(err as Error);
        }
      });
    };
    const timer = setTimeout(() => finish(new Error(`untilChanged: timed out after ${ms} ms waiting for ${what}`)), ms);
    const unsubscribe = store.subscribe((batch) => test(batch));
    test(null);
  });
}

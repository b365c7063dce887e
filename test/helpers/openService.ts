/** A store and the flow service over it, for the service tests. */
import { afterEach } from 'vitest';
import { FlowService } from '../../src/service/FlowService.ts';
import { GitStore, type StoreOptions } from '../../src/store/GitStore.ts';

const opened: Array<{ store: GitStore; svc: FlowService }> = [];

afterEach(async () => {
  for (const { store, svc } of opened.splice(0)) {
    svc.close();
    await store.close();
  }
});

/** Opens the store at `dir` (not durable, unless told) and a FlowService over it; both close after the test. */
export async function openService(dir: string, opts: Partial<StoreOptions> = {}): Promise<{ store: GitStore; svc: FlowService }> {
  const store = await GitStore.open({ dir, durable: false, ...opts });
  const svc = new FlowService(store);
  opened.push({ store, svc });
  return { store, svc };
}

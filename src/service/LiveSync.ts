import { FlowWatcher } from '../watch/FlowWatcher.ts';
import type { FlowService } from './FlowService.ts';

/** Options of LiveSync. */
export interface LiveSyncOptions {
  /** Watch the working tree (default true). */
  watch?: boolean;
  /** Fetch the remote every this many ms (0: never; only when the store has a remote). */
  fetchIntervalMs?: number;
  /** Also compare HEAD every this many ms, in case a file-system event was lost (default 1000; 0: never). */
  headPollMs?: number;
  /** Where failures inside the loops go (they never stop the loops). */
  onError?: (err: unknown, where: 'watch' | 'fetch') => void;
  /** Called after each batch was served: the paths hinted, where from, and the uids whose served state changed. */
  onServed?: (paths: string[], source: 'watch' | 'fetch', changed: string[]) => void;
}

/**
 * Keeps the served flows in step with the disk and the remote (design §5): a file watcher whose
 * events make the service re-read those paths (or everything when git's refs moved), and a fetch
 * loop that fast-forwards to the remote on an interval or when a webhook asks.
 */
export class LiveSync {
  private watcher: FlowWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private fetching: Promise<string[]> | null = null;
  private stopped = false;

  constructor(
    private readonly service: FlowService,
    private readonly opts: LiveSyncOptions = {},
  ) {}

  /** Starts the watcher and the fetch loop. */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.watch !== false) {
      this.watcher = new FlowWatcher({
        dir: this.service.store.dir,
        flowsDir: this.service.store.flowsDir,
        onChange: async (batch) => {
          // a ref event after flowreg's own commit needs no rescan: the store already stands there
          const full = batch.rescan === true || (batch.refsMoved && this.headMoved());
          const changed = await this.service.refresh(full ? undefined : batch.paths);
          this.opts.onServed?.(batch.paths, 'watch', changed);
        },
        onError: (err) => this.opts.onError?.(err, 'watch'),
      });
      await this.watcher.start();
    }
    const pollMs = this.opts.headPollMs ?? 1000;
    if (this.opts.watch !== false && pollMs > 0) {
      this.poll = setInterval(() => {
        if (!this.headMoved()) return;
        this.service
          .refresh()
          .then((changed) => this.opts.onServed?.([], 'watch', changed))
          .catch((err: unknown) => this.opts.onError?.(err, 'watch'));
      }, pollMs);
      this.poll.unref();
    }
    const every = this.opts.fetchIntervalMs ?? 0;
    if (this.service.store.status().remote) {
      // catch up at once (a restart may have missed pushes), without holding up the start
      void this.fetchNow().catch((err: unknown) => this.opts.onError?.(err, 'fetch'));
      if (every > 0) this.schedule(every);
    }
  }

  private schedule(every: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.fetchNow()
        .catch((err: unknown) => this.opts.onError?.(err, 'fetch'))
        .finally(() => {
          if (!this.stopped) this.schedule(every);
        });
    }, every);
  }

  /**
   * Fetches and fast-forwards now (a webhook, or the interval), then serves what changed; a fetch
   * already under way is joined instead of started twice. Returns the paths that changed.
   */
  fetchNow(): Promise<string[]> {
    this.fetching ??= (async () => {
      try {
        const paths = await this.service.store.sync();
        const changed = await this.service.pulled(paths);
        this.opts.onServed?.(paths, 'fetch', changed);
        return paths;
      } finally {
        this.fetching = null;
      }
    })();
    return this.fetching;
  }

  /** True when HEAD on disk is not where the store stands (a commit, checkout or pull outside flowreg). */
  private headMoved(): boolean {
    const disk = this.service.store.currentHead();
    const known = this.service.store.head();
    return disk.oid !== known.oid || disk.ref !== known.ref;
  }

  /** Stops both loops and waits for work in progress; no timer or watcher is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.stop();
    this.watcher = null;
    await this.fetching?.catch(() => undefined);
  }
}

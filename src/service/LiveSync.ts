import type { GitStore } from '../store/GitStore.ts';
import { FlowWatcher } from '../watch/FlowWatcher.ts';
import { realScheduler, type Scheduler, type TimerHandle } from '../watch/Scheduler.ts';

/** Options of LiveSync. */
export interface LiveSyncOptions {
  /** Watch the working tree (default true). */
  watch?: boolean;
  /** Fetch the remote every this many ms (0: never; only when the store has a remote). */
  fetchIntervalMs?: number;
  /** Also compare HEAD every this many ms, in case a file-system event was lost (default 1000; 0: never). */
  headPollMs?: number;
  /**
   * Where failures inside the loops go: a batch of the watcher, the HEAD check (an EMFILE when
   * descriptors run out, say) or a fetch. They never stop the loops, and an onError that throws
   * is ignored.
   */
  onError?: (err: unknown, where: 'watch' | 'head' | 'fetch') => void;
  /** Called after each batch was served: the paths hinted, where from, and the flows whose served answer changed. */
  onServed?: (paths: string[], source: 'watch' | 'fetch', changed: string[]) => void;
  /** Time and timers (default: the real ones). */
  scheduler?: Scheduler;
}

/**
 * Keeps the store in step with the disk and the remote (docs/sync.md): a file watcher whose
 * events make the store re-check those paths (or everything when git's refs moved), a HEAD poll in
 * case an event was lost, and a fetch loop that fast-forwards to the remote on an interval or when
 * a webhook asks. What changed reaches the served index through the store's one change stream.
 */
export class LiveSync {
  private watcher: FlowWatcher | null = null;
  private timer: TimerHandle | null = null;
  private poll: TimerHandle | null = null;
  private fetching: Promise<string[]> | null = null;
  private again: Promise<string[]> | null = null;
  private stopped = false;
  private readonly scheduler: Scheduler;

  constructor(
    private readonly store: GitStore,
    private readonly opts: LiveSyncOptions = {},
  ) {
    this.scheduler = opts.scheduler ?? realScheduler;
  }

  /** Starts the watcher, the HEAD poll and the fetch loop. */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.watch !== false) {
      this.watcher = new FlowWatcher({
        dir: this.store.dir,
        flowsDir: this.store.flowsDir,
        scheduler: this.scheduler,
        onChange: async (batch) => {
          // a ref event after flowreg's own commit needs no rescan: the store already stands there
          const full = batch.rescan === true || (batch.refsMoved && this.headMoved());
          const served = await this.store.refresh(full ? undefined : batch.paths);
          this.opts.onServed?.(batch.paths, 'watch', served.uids);
        },
        onError: (err) => this.report(err, 'watch'),
      });
      await this.watcher.start();
      const pollMs = this.opts.headPollMs ?? 1000;
      if (pollMs > 0) this.pollHead(pollMs);
    }
    if (this.store.hasRemote) {
      // catch up at once (a restart may have missed pushes), without holding up the start
      void this.fetchNow().catch((err: unknown) => this.report(err, 'fetch'));
      const every = this.opts.fetchIntervalMs ?? 0;
      if (every > 0) this.scheduleFetch(every);
    }
  }

  private pollHead(every: number): void {
    this.poll = this.scheduler.setTimeout(() => {
      this.poll = null;
      const next = (): void => {
        if (!this.stopped) this.pollHead(every);
      };
      let moved: boolean;
      try {
        // reads .git/HEAD inside a timer: a failure here (EMFILE) would otherwise end the process
        moved = this.headMoved();
      } catch (err) {
        this.report(err, 'head');
        return next();
      }
      if (!moved) return next();
      this.store
        .refresh()
        .then((served) => this.opts.onServed?.([], 'watch', served.uids))
        .catch((err: unknown) => this.report(err, 'watch'))
        .finally(next);
    }, every);
    this.poll.unref?.();
  }

  private scheduleFetch(every: number): void {
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = null;
      void this.fetchNow()
        .catch((err: unknown) => this.report(err, 'fetch'))
        .finally(() => {
          if (!this.stopped) this.scheduleFetch(every);
        });
    }, every);
  }

  /**
   * Fetches and fast-forwards now (a webhook, or the interval); the store serves what changed.
   * A fetch already under way may have started before what the caller knows of (a push a
   * webhook announces): the caller gets one more fetch after it, shared by every caller
   * meanwhile. Returns the paths that changed.
   */
  fetchNow(): Promise<string[]> {
    if (!this.fetching) {
      this.fetching = (async () => {
        try {
          const served = await this.store.fetch();
          const paths = served.changes.map((c) => c.path);
          this.opts.onServed?.(paths, 'fetch', served.uids);
          return paths;
        } finally {
          this.fetching = null;
        }
      })();
      return this.fetching;
    }
    this.again ??= this.fetching
      .catch(() => undefined)
      .then(() => {
        this.again = null;
        return this.fetchNow();
      });
    return this.again;
  }

  /** Resolves once the watcher has no batch pending, running or due to be checked again. */
  async settled(): Promise<void> {
    await this.watcher?.settled();
  }

  /** Hands a loop's failure to onError; an onError that throws is ignored (it must not end a loop or the process). */
  private report(err: unknown, where: 'watch' | 'head' | 'fetch'): void {
    try {
      this.opts.onError?.(err, where);
    } catch {
      // nothing better to do: the loop goes on
    }
  }

  /** True when HEAD on disk is not where the store stands (a commit, checkout or pull outside flowreg). */
  private headMoved(): boolean {
    const disk = this.store.currentHead();
    const known = this.store.head();
    return disk.oid !== known.oid || disk.ref !== known.ref;
  }

  /** Stops every loop and waits for work in progress; no timer or watcher is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) this.scheduler.clearTimeout(this.poll);
    this.poll = null;
    if (this.timer) this.scheduler.clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.stop();
    this.watcher = null;
    await this.again?.catch(() => undefined);
    await this.fetching?.catch(() => undefined);
  }
}

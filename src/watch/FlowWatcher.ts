import { lstatSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isFlowFileName } from '../core/flowPaths.ts';
import { realScheduler, type Scheduler, type TimerHandle } from './Scheduler.ts';

/** What changed since the last batch: repository-relative flow paths, and whether git's refs or the folders moved. */
export interface WatchBatch {
  paths: string[];
  /** HEAD, a branch or packed-refs changed. */
  refsMoved: boolean;
  /** A folder of flows appeared or disappeared, or the system could not say which file changed: re-check everything. */
  rescan?: boolean;
  /** True for the re-check of an earlier batch's paths (no event was seen for it). */
  followUp?: boolean;
}

/** Options of a FlowWatcher. */
export interface FlowWatcherOptions {
  /** The repository's working tree. */
  dir: string;
  /** Folder of flow files, relative to `dir`. */
  flowsDir: string;
  /** Called with each batch of changes; batches never overlap. */
  onChange: (batch: WatchBatch) => Promise<void>;
  /**
   * Called when handling a batch fails (its paths are tried again, after 1 s and then up to 30 s
   * between tries), when a folder cannot be watched, or when an event could not be handled. The
   * watcher goes on; an onError that throws is ignored.
   */
  onError?: (err: unknown) => void;
  /** Quiet time before a batch is handled, in ms (default 5). */
  settleMs?: number;
  /** Timers (default: Node's). */
  scheduler?: Scheduler;
}

/** When a batch's paths are checked again after it, in ms. */
const FOLLOW_UP_MS = [30, 150];

/** After a batch failed, its paths are tried again this long after (doubling with each failure in a row, up to the last). */
const RETRY_MS = [1000, 30_000];

/** Errors of a folder that simply is not there (any more): not worth reporting. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Editor and tool artifacts that are never flows: hidden files, backups, swap and temp files. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(swp|swx|swo|tmp|bak|orig)$/.test(name) || /^#.*#$/.test(name) || name === '4913';
}

type Kind = 'flows' | 'git' | 'refs';

/**
 * Watches the flows folder (each of its folders) and git's refs with the operating system's file
 * notifications (`fs.watch`, inotify on Linux). Events are hints to re-check a path, not facts:
 * they are gathered into batches (an unlink then an add of one path is one entry) and handed to
 * `onChange`, which re-reads what is really on disk; every batch's paths are checked once more a
 * little later.
 *
 * chokidar, the usual choice, was measured here and dropped: on every change of a folder it lists
 * and lstats the whole folder (10,000 lstats per save in a flows folder of 10,000 files, about
 * 20 ms of CPU) and re-reads a folder at most once a second, so rapid saves went unseen.
 */
export class FlowWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private pending = new Set<string>();
  private refsMoved = false;
  private rescan = false;
  private followUpNext = false;
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private followUps: TimerHandle[] = [];
  /** Batches that failed in a row (the delay before the next try grows with it). */
  private failures = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly gitdir: string;
  private readonly flowsAbs: string;
  private readonly scheduler: Scheduler;

  constructor(private readonly opts: FlowWatcherOptions) {
    this.gitdir = join(opts.dir, '.git');
    this.flowsAbs = join(opts.dir, opts.flowsDir);
    this.scheduler = opts.scheduler ?? realScheduler;
  }

  /** Starts watching; events are seen from the moment it resolves. */
  async start(): Promise<void> {
    this.stopped = false;
    this.watchTree(this.flowsAbs, 'flows');
    this.watchDir(this.gitdir, 'git');
    this.watchTree(join(this.gitdir, 'refs', 'heads'), 'refs');
    // the flows folder may not exist yet: its parent tells when it appears
    this.watchDir(this.opts.dir, 'flows');
  }

  /** Stops watching and waits for a batch in progress; no timer or handle is left. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.scheduler.clearTimeout(this.timer);
    this.timer = null;
    for (const t of this.followUps) this.scheduler.clearTimeout(t);
    this.followUps = [];
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
    this.notifyIdle();
  }

  /** Resolves once no batch is pending, running or due to be checked again (for tests and shutdown). */
  settled(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    if (!this.stopped && (this.timer || this.running || this.followUps.length > 0)) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Watches a folder and every folder below it (hidden ones excepted). */
  private watchTree(dir: string, kind: Kind): void {
    if (!this.watchDir(dir, kind)) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) this.watchTree(join(dir, e.name), kind);
  }

  private watchDir(dir: string, kind: Kind): boolean {
    if (this.watchers.has(dir) || this.stopped) return this.watchers.has(dir);
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        // a listener of fs.watch that throws would end the process
        try {
          this.onEvent(kind, dir, name === null ? null : String(name));
        } catch (err) {
          this.report(err);
        }
      });
    } catch (err) {
      // ENOSPC (inotify's watch limit), EMFILE, EACCES: changes in that folder go unseen until it is watched again
      if (!GONE.has(codeOf(err) ?? '')) this.report(err);
      return false;
    }
    w.on('error', (err) => {
      // the folder went away, or the watch failed: stop watching it, and look at everything again
      if (!GONE.has(codeOf(err) ?? '') && codeOf(err) !== 'EPERM') this.report(err);
      w.close();
      this.watchers.delete(dir);
      this.mark(() => (this.rescan = true));
    });
    this.watchers.set(dir, w);
    return true;
  }

  private onEvent(kind: Kind, dir: string, name: string | null): void {
    if (this.stopped) return;
    if (kind === 'git') {
      if (name === 'HEAD' || name === 'packed-refs' || name === null) this.mark(() => (this.refsMoved = true));
      return;
    }
    const full = name === null ? dir : join(dir, name);
    if (kind === 'refs') {
      if (name !== null && name.endsWith('.lock')) return;
      if (this.isDir(full)) this.watchTree(full, 'refs');
      this.mark(() => (this.refsMoved = true));
      return;
    }
    // the repository folder is watched only for the flows folder itself coming or going
    if (dir === this.opts.dir) {
      if (name === this.opts.flowsDir.split('/')[0]) {
        this.watchTree(this.flowsAbs, 'flows');
        this.mark(() => (this.rescan = true));
      }
      return;
    }
    if (name === null) {
      this.mark(() => (this.rescan = true));
      return;
    }
    const base = name.slice(name.lastIndexOf(sep) + 1);
    if (isIgnoredName(base)) return;
    const rel = relative(this.opts.dir, full).split(sep).join('/');
    if (isFlowFileName(base)) {
      this.mark(() => this.pending.add(rel));
      return;
    }
    // a folder came or went inside the flows folder: watch it, and re-check everything
    if (this.isDir(full)) this.watchTree(full, 'flows');
    else if (!this.watchers.has(full)) return;
    this.mark(() => (this.rescan = true));
  }

  /** A real folder: a symbolic link to one is not followed (flowreg never reads through a link). */
  private isDir(path: string): boolean {
    try {
      return lstatSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  private mark(change: () => void, delay = this.opts.settleMs ?? 5): void {
    change();
    if (this.timer) this.scheduler.clearTimeout(this.timer);
    this.timer = this.scheduler.setTimeout(() => {
      this.flush().catch((err: unknown) => {
        // flush handles the batch's own failure; this is a bug of the watcher, reported, not fatal
        this.running = null;
        this.report(err);
        this.notifyIdle();
      });
    }, delay);
  }

  /** Hands an error to onError; one that throws is ignored (it must not end the watcher or the process). */
  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // the watcher goes on
    }
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (this.running) {
      // one batch at a time: the next one starts when this one ends
      await this.running;
      if (this.timer || (this.pending.size === 0 && !this.refsMoved && !this.rescan)) return this.notifyIdle();
    }
    const batch: WatchBatch = { paths: [...this.pending], refsMoved: this.refsMoved, rescan: this.rescan, followUp: this.followUpNext };
    this.pending.clear();
    this.refsMoved = false;
    this.rescan = false;
    this.followUpNext = false;
    if (batch.paths.length === 0 && !batch.refsMoved && !batch.rescan) return this.notifyIdle();
    let failed = false;
    this.running = Promise.resolve()
      .then(() => this.opts.onChange(batch))
      .catch((err: unknown) => {
        failed = true;
        this.report(err);
      });
    await this.running;
    this.running = null;
    if (failed && !this.stopped) {
      // the hint is not lost: its paths are tried again later (with whatever arrived meanwhile)
      const delay = Math.min(RETRY_MS[0]! * 2 ** this.failures, RETRY_MS[1]!);
      this.failures++;
      this.mark(() => {
        for (const p of batch.paths) this.pending.add(p);
        this.refsMoved ||= batch.refsMoved;
        this.rescan ||= batch.rescan === true;
      }, delay);
      return;
    }
    if (!failed) this.failures = 0;
    // a write seen while its file was still changing is seen again shortly after
    if (!batch.followUp && batch.paths.length > 0 && !this.stopped) {
      for (const delay of FOLLOW_UP_MS) {
        const t = this.scheduler.setTimeout(() => {
          this.followUps = this.followUps.filter((x) => x !== t);
          this.followUpNext = true;
          this.mark(() => {
            for (const p of batch.paths) this.pending.add(p);
          });
        }, delay);
        this.followUps.push(t);
      }
    }
    if ((this.pending.size > 0 || this.refsMoved || this.rescan) && !this.timer && !this.stopped) void this.flush();
    else this.notifyIdle();
  }
}

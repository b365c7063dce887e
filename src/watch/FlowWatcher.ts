import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** What changed since the last batch: repository-relative flow paths, and whether git's refs moved. */
export interface WatchBatch {
  paths: string[];
  refsMoved: boolean;
  /** True for the re-check of an earlier batch's paths (no event was seen for it). */
  followUp?: boolean;
}

/** When a batch's paths are checked again after it, in ms. */
const FOLLOW_UP_MS = [30, 150];

/** Options of a FlowWatcher. */
export interface FlowWatcherOptions {
  /** The repository's working tree. */
  dir: string;
  /** Folder of flow files, relative to `dir`. */
  flowsDir: string;
  /** Called with each batch of changes; batches never overlap. */
  onChange: (batch: WatchBatch) => Promise<void>;
  /** Called when handling a batch fails (the watcher logs and goes on). */
  onError?: (err: unknown) => void;
  /** Quiet time before a batch is handled, in ms (default 5). */
  settleMs?: number;
}

const FLOW_FILE = /\.ya?ml$/;

/** Editor and tool artifacts that are never flows: hidden files, backups, swap and temp files. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(swp|swx|swo|tmp|bak|orig)$/.test(name) || /^#.*#$/.test(name) || name === '4913';
}

/**
 * Watches the flows folder and git's refs with chokidar. Events are hints to re-check a path,
 * not facts: they are gathered into batches (an unlink then an add of one path is one entry)
 * and handed to `onChange`, which re-reads what is really on disk.
 */
export class FlowWatcher {
  private watchers: FSWatcher[] = [];
  private pending = new Set<string>();
  private refsMoved = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private followUps: NodeJS.Timeout[] = [];
  private followUpNext = false;
  private readonly gitdir: string;

  constructor(private readonly opts: FlowWatcherOptions) {
    this.gitdir = join(opts.dir, '.git');
  }

  /** Starts watching; resolves once the initial scan is done and events will be seen. */
  async start(): Promise<void> {
    const flows = join(this.opts.dir, this.opts.flowsDir);
    const ignored = (path: string): boolean => {
      const rel = relative(this.opts.dir, path).split(sep).join('/');
      if (rel === '.git' || rel.startsWith('.git/')) return rel.endsWith('.lock') || /\.flowreg-\d+\.tmp$/.test(rel);
      const name = rel.slice(rel.lastIndexOf('/') + 1);
      return name !== '' && rel !== this.opts.flowsDir && isIgnoredName(name);
    };
    // an atomic save (write temp, rename) is handled by batching, without chokidar's 100 ms delay
    const base = { ignoreInitial: true, atomic: false, ignored };
    // git replaces HEAD and refs by renaming lock files into place: watch their folders, not the files
    this.watchers = [
      watch(flows, base),
      watch(this.gitdir, { ...base, depth: 0, ignored: (p: string) => ignored(p) || !/[/\\](HEAD|packed-refs|\.git)$/.test(p) }),
      watch(join(this.gitdir, 'refs', 'heads'), base),
    ];
    const onPath = (path: string): void => this.note(path);
    await Promise.all(
      this.watchers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.on('add', onPath).on('change', onPath).on('unlink', onPath).on('addDir', onPath).on('unlinkDir', onPath);
            w.on('error', (err) => this.opts.onError?.(err));
            w.once('ready', () => resolve());
          }),
      ),
    );
  }

  /** Stops watching and waits for a batch in progress; no timer or handle is left. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const t of this.followUps) clearTimeout(t);
    this.followUps = [];
    await Promise.all(this.watchers.map((w) => w.close()));
    this.watchers = [];
    await this.running;
  }

  private note(path: string): void {
    const rel = relative(this.opts.dir, path).split(sep).join('/');
    if (rel.startsWith('.git/')) this.refsMoved = true;
    else if (rel === '.git') return;
    else if (FLOW_FILE.test(rel)) this.pending.add(rel);
    else if (rel === this.opts.flowsDir || rel.startsWith(`${this.opts.flowsDir}/`)) this.refsMoved = true; // a folder came or went: rescan
    else return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.opts.settleMs ?? 5);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (this.running) {
      // one batch at a time: the next one starts when this one ends
      await this.running;
      if (this.timer || (this.pending.size === 0 && !this.refsMoved)) return;
    }
    const batch: WatchBatch = { paths: [...this.pending], refsMoved: this.refsMoved, followUp: this.followUpNext };
    this.pending.clear();
    this.refsMoved = false;
    this.followUpNext = false;
    if (batch.paths.length === 0 && !batch.refsMoved) return;
    this.running = this.opts.onChange(batch).catch((err: unknown) => this.opts.onError?.(err));
    await this.running;
    this.running = null;
    // chokidar drops events of rapid successive saves (a rename over a file it is re-watching):
    // the same paths are checked again shortly, so a final save is never missed
    if (!batch.followUp) {
      for (const delay of FOLLOW_UP_MS) {
        const t = setTimeout(() => {
          this.followUps = this.followUps.filter((x) => x !== t);
          for (const p of batch.paths) this.pending.add(p);
          if (batch.refsMoved) this.refsMoved = true;
          this.followUpNext = true;
          if (!this.timer && this.watchers.length > 0) void this.flush();
        }, delay);
        this.followUps.push(t);
      }
    }
    if ((this.pending.size > 0 || this.refsMoved) && !this.timer && this.watchers.length > 0) void this.flush();
  }
}

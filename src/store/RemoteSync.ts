import { isFlowPath } from '../core/flowPaths.ts';
import { FlowregError } from '../errors/index.ts';
import type { CommitTransaction } from './CommitTransaction.ts';
import type { FlowHistory } from './FlowHistory.ts';
import type { GitIndex } from './gitIndex.ts';
import type { ObjectStore } from './objectStore.ts';
import { Remote, type RemoteOptions } from './Remote.ts';
import { TreeDiffer } from './treeDiff.ts';
import type { FileChange, Identity, SyncEvent } from './types.ts';
import type { WorkingTree } from './WorkingTree.ts';

/**
 * How long a write keeps rebuilding its commit on a remote that keeps moving (other daemons
 * pushing other flows) before it gives up with PUSH_REJECTED: with the network round it is the
 * bound on a write's answer time (docs/sync.md).
 */
export const PUSH_DEADLINE_MS = 30_000;

/** A commit ready to become the branch's new head, and what the remote brought in on the way. */
export interface PushedCommit {
  commit: string;
  /** The commit's parent: the local head, or the remote head the commit was rebuilt on. */
  base: string | null;
  /** Files the remote changed between the local head and `base`. */
  pulled: FileChange[];
}

/**
 * Remote sync (docs/sync.md): fetch and the fast-forward plan, the push of each write (rebuilt on
 * the remote's new head when the push is refused and the flow did not change there), and what
 * the status endpoint reports about both. Runs inside the store's write queue.
 */
export class RemoteSync {
  readonly remote: Remote;
  lastFetch: SyncEvent | null = null;
  lastPush: SyncEvent | null = null;
  blocked: string | null = null;

  constructor(
    dir: string,
    opts: RemoteOptions,
    private readonly objects: ObjectStore,
    private readonly history: FlowHistory,
    private readonly tree: WorkingTree,
    private readonly flowsDir: string,
    private readonly now: () => number,
  ) {
    this.remote = new Remote(dir, opts);
  }

  /**
   * Fetches the branch; returns the remote head. A failure is kept for the status at once; a
   * success only once what it brought is in the tree (`fetched`), so that a status with a last
   * fetch means that fetch's result is served (after a restart: the daemon has caught up).
   */
  async fetch(): Promise<string | null> {
    try {
      return await this.remote.fetch();
    } catch (err) {
      this.fetched(err);
      throw err;
    }
  }

  /** Records the outcome of a fetch and of the fast-forward that followed it (null: both done). */
  fetched(err: unknown): void {
    // shown by the status endpoint: an error of isomorphic-git may quote the remote's URL
    this.lastFetch = { time: this.now(), error: err === null ? null : this.remote.redact(err instanceof Error ? err.message : String(err)) };
  }

  /**
   * What a fast-forward from `head` to the fetched remote head changes, or null when there is
   * nothing to do or it may not happen (local commits the remote lacks, local edits in the way:
   * the reason is kept in `blocked`).
   */
  planFastForward(head: string | null, index: GitIndex): { remoteHead: string; files: FileChange[] } | null {
    const remoteHead = this.remote.trackedHead();
    if (!remoteHead || head === remoteHead) {
      this.blocked = null;
      return null;
    }
    if (head && this.history.isAncestor(remoteHead, head)) return null; // local is ahead: the next push carries it
    if (head && !this.history.isAncestor(head, remoteHead)) {
      this.blocked = `the local branch has diverged from ${this.remote.url}: it has commits the remote does not; resolve by hand`;
      return null;
    }
    const files = this.diffCommits(head, remoteHead);
    try {
      this.tree.checkClean(files, index);
    } catch (err) {
      this.blocked = err instanceof Error ? err.message : String(err);
      return null;
    }
    this.blocked = null;
    return { remoteHead, files };
  }

  /** Refuses writes while the local branch holds commits the remote does not (made by hand). */
  async checkNotAhead(head: string | null): Promise<void> {
    // no remote head known (the ref was dropped as a leftover of a killed fetch): ask the remote
    if (head && this.remote.trackedHead() === null) await this.remote.fetch();
    const remoteHead = this.remote.trackedHead();
    if (!head || head === remoteHead) return;
    if (remoteHead === null || !this.history.isAncestor(head, remoteHead)) {
      throw new FlowregError('BRANCH_DIVERGED', `the local branch has commits that ${this.remote.url} does not (made outside flowreg); push or reset them by hand before writing`, { head, remoteHead });
    }
  }

  /**
   * Pushes a write's commit. When the remote refuses because its branch moved, the commit is
   * rebuilt on the new remote head, unless the remote changed this flow (then PUSH_REJECTED): the
   * write is acknowledged only once the remote has it.
   */
  async push(write: { base: string | null; changes: FileChange[]; uid: string; author: Identity; message: string; nowMs: number }, tx: CommitTransaction, index: GitIndex): Promise<PushedCommit> {
    let base = write.base;
    let commit = tx.buildCommit(base, write.changes, write.author, write.message, write.nowMs);
    let pulled: FileChange[] = [];
    const deadline = performance.now() + PUSH_DEADLINE_MS;
    for (let attempt = 0; ; attempt++) {
      const pushed = await this.remote.push(commit);
      this.lastPush = { time: this.now(), error: null };
      if (pushed === 'ok') return { commit, base, pulled };
      const remoteHead = await this.remote.fetch();
      this.lastFetch = { time: this.now(), error: null };
      if (!remoteHead) throw new FlowregError('PUSH_REJECTED', `the remote refused the push of flow ${write.uid} but has no branch ${this.remote.branch}; try again`, { uid: write.uid });
      if (performance.now() > deadline) {
        throw new FlowregError('PUSH_REJECTED', `the remote kept moving for ${PUSH_DEADLINE_MS / 1000} s (other writers pushing other flows) and the push of flow ${write.uid} did not get in after ${attempt + 1} tries; try again`, {
          uid: write.uid,
        });
      }
      if (base && !this.history.isAncestor(base, remoteHead)) {
        throw new FlowregError('BRANCH_DIVERGED', `the local branch and ${this.remote.url} have diverged; resolve it by hand before writing`, {});
      }
      const remoteChanges = this.diffCommits(base, remoteHead);
      if (this.touchesFlow(remoteChanges, write.changes, write.uid)) {
        throw new FlowregError('PUSH_REJECTED', `flow ${write.uid} changed on the remote since it was read; read it again and retry`, { uid: write.uid });
      }
      pulled = mergeChanges(pulled, remoteChanges);
      this.tree.checkClean(pulled, index);
      base = remoteHead;
      commit = tx.buildCommit(base, write.changes, write.author, write.message, write.nowMs);
      // another writer got in first: wait a random moment before the next try, so that writers
      // pushing at the same pace do not keep meeting at the remote
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(20 * 2 ** attempt, 400)));
    }
  }

  /** Blob changes from commit `from` to commit `to`, over the whole tree. */
  diffCommits(from: string | null, to: string): FileChange[] {
    const a = from ? this.objects.commit(from).tree : null;
    const b = this.objects.commit(to).tree;
    return new TreeDiffer(this.objects).diff(a, b, '').map((c) => ({ path: c.path, oldBlob: c.oldOid, newBlob: c.newOid, ...(c.mode ? { mode: c.mode } : {}) }));
  }

  /** True when remote changes touch the files of this write or another file of the same flow. */
  private touchesFlow(remote: FileChange[], mine: FileChange[], uid: string): boolean {
    const paths = new Set(mine.map((c) => c.path));
    for (const ch of remote) {
      if (paths.has(ch.path)) return true;
      if (!isFlowPath(ch.path, this.flowsDir)) continue;
      for (const blob of [ch.oldBlob, ch.newBlob]) if (blob && this.history.index.uidOfBlob(blob) === uid) return true;
    }
    return false;
  }
}

/** Composes two successive change lists (first `a`, then `b`) into one. */
export function mergeChanges(a: FileChange[], b: FileChange[]): FileChange[] {
  const byPath = new Map<string, FileChange>();
  for (const ch of a) byPath.set(ch.path, ch);
  for (const ch of b) {
    const prev = byPath.get(ch.path);
    byPath.set(ch.path, prev ? { ...ch, oldBlob: prev.oldBlob } : ch);
  }
  return [...byPath.values()].filter((ch) => ch.oldBlob !== ch.newBlob || ch.mode !== undefined);
}

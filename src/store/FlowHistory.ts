import { isFlowPath } from '../core/flowPaths.ts';
import { parseYaml } from '../core/parseYaml.ts';
import type { FlowFile } from '../core/types.ts';
import { FlowregError } from '../errors/index.ts';
import type { TreeEntry } from './gitObjects.ts';
import { HistoryIndex, type CommitRecord } from './historyIndex.ts';
import type { ObjectStore } from './objectStore.ts';
import type { FlowFileState, FlowVersion, VersionInfo } from './types.ts';
import { isObject } from '../core/jsonAccess.ts';

const OID = /^[0-9a-f]{40}$/;

/**
 * History reads (docs/storage.md): each flow's versions and times from the history index, a flow
 * at one of its versions, and ancestry of commits. The index itself is brought up to date by the
 * store after every move of HEAD.
 */
export class FlowHistory {
  readonly index: HistoryIndex;

  constructor(
    private readonly objects: ObjectStore,
    file: string,
    private readonly flowsDir: string,
  ) {
    this.index = new HistoryIndex(objects, file, flowsDir);
  }

  /** Version facts of flow `uid` whose file is now in `state` (absent: deleted or never written). */
  versionOf(uid: string, state: Pick<FlowFileState, 'blob' | 'headBlob'> | undefined): VersionInfo {
    const commits = this.index.commitsOf(uid);
    const last = commits[0] ?? null;
    const first = commits[commits.length - 1] ?? null;
    const dirty = state ? state.blob !== state.headBlob : false;
    return {
      version: last === null ? 'uncommitted' : dirty ? `${last}-dirty` : last,
      commit: last,
      created: first ? (this.index.commit(first)?.time ?? null) : null,
      modified: last ? (this.index.commit(last)?.time ?? null) : null,
      commits: commits.length,
      dirty,
    };
  }

  /** The history of flow `uid`, newest first. */
  versions(uid: string): FlowVersion[] {
    return this.index.commitsOf(uid).map((oid) => {
      const c = this.index.commit(oid) as CommitRecord;
      return { version: oid, time: c.time, timezoneOffset: c.timezoneOffset, author: { name: c.authorName, email: c.authorEmail }, authorTime: c.authorTime, message: c.subject };
    });
  }

  /** Committer time of a commit the index knows, seconds since the epoch. */
  timeOf(oid: string): number | null {
    return this.index.commit(oid)?.time ?? null;
  }

  /** Flow `uid` as it was at `version` (one of its commits); null when that commit deleted it. */
  readAt(uid: string, version: string): { path: string; file: FlowFile } | null {
    if (!OID.test(version) || !this.index.commitsOf(uid).includes(version)) {
      throw new FlowregError('VERSION_NOT_FOUND', `flow ${uid} has no version ${version}`, { uid, version });
    }
    const found = this.findUidInTree(this.objects.commit(version).tree, uid);
    if (!found) return null;
    const v = parseYaml(this.objects.readTyped(found.blob, 'blob').toString('utf8')).value;
    if (!isObject(v)) throw new FlowregError('FLOW_INVALID', `${found.path} at ${version} does not hold a flow mapping`);
    return { path: found.path, file: v as unknown as FlowFile };
  }

  /** The parents of a commit (from the index, else from the object). */
  parentsOf(oid: string): string[] {
    return this.index.commit(oid)?.parents ?? this.objects.commit(oid).parents;
  }

  /** True when commit `a` is `b` or one of its ancestors. */
  isAncestor(a: string, b: string): boolean {
    if (a === b) return true;
    const seen = new Set<string>([b]);
    const stack = [b];
    while (stack.length > 0) {
      const oid = stack.pop() as string;
      for (const p of this.parentsOf(oid)) {
        if (p === a) return true;
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return false;
  }

  /** The number of commits reachable from `from` and not from `exclude` (at most 100,000). */
  countBetween(from: string | null, exclude: string | null): number {
    if (!from) return 0;
    const parents = (o: string): string[] => {
      try {
        return this.parentsOf(o);
      } catch {
        return [];
      }
    };
    const stop = new Set<string>();
    if (exclude) {
      const stack = [exclude];
      while (stack.length > 0 && stop.size < 100_000) {
        const o = stack.pop() as string;
        if (stop.has(o)) continue;
        stop.add(o);
        stack.push(...parents(o));
      }
    }
    let n = 0;
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0 && n < 100_000) {
      const o = stack.pop() as string;
      if (seen.has(o) || stop.has(o)) continue;
      seen.add(o);
      n++;
      stack.push(...parents(o));
    }
    return n;
  }

  private findUidInTree(root: string, uid: string): { path: string; blob: string } | null {
    let tree: string | null = root;
    for (const part of this.flowsDir.split('/')) {
      const e: TreeEntry | undefined = tree ? this.objects.tree(tree).find((x) => x.name === part && x.mode === '40000') : undefined;
      tree = e ? e.oid : null;
    }
    if (!tree) return null;
    const stack: Array<[string, string]> = [[tree, this.flowsDir]];
    while (stack.length > 0) {
      const [t, prefix] = stack.pop() as [string, string];
      for (const e of this.objects.tree(t)) {
        const p = `${prefix}/${e.name}`;
        if (e.mode === '40000') stack.push([e.oid, p]);
        else if (isFlowPath(p, this.flowsDir) && this.index.uidOfBlob(e.oid) === uid) return { path: p, blob: e.oid };
      }
    }
    return null;
  }
}

import { checkRepository } from '../core/checkRepository.ts';
import { flowNotFound } from '../core/flowFromBody.ts';
import { servedDiffers, servedEntry, servedKeyOf, type ServedEntry } from '../core/servedEntry.ts';
import type { Finding, FlowFile } from '../core/types.ts';
import type { FlowChange, FlowFileState } from './types.ts';

/**
 * The one flow index: every flow file of the working tree (by path, by uid and by name) and what
 * is served for each flow, with quarantine applied by the pure rule of core/servedEntry.ts. It
 * changes only by applying the store's stream of changes, and work per batch is proportional to
 * the batch: the flows of the changed paths are derived again, nothing else.
 */
export class FlowIndex {
  private readonly files = new Map<string, FlowFileState>();
  private readonly uidPaths = new Map<string, Set<string>>();
  /** `name:<lower-case name>` and `path:<lower-case path>`: names are unique without regard to case. */
  private readonly namePaths = new Map<string, Set<string>>();
  private readonly served = new Map<string, ServedEntry>();
  /** The served key of each path's entry (a quarantined file is served under its last valid uid). */
  private readonly servedAt = new Map<string, string>();
  private gen = 0;

  /** Bumped by every batch that changed anything: caches of older generations are stale. */
  get generation(): number {
    return this.gen;
  }

  /** Applies a batch of changes; returns the served keys whose answer changed. */
  apply(changes: FlowChange[]): string[] {
    if (changes.length === 0) return [];
    const keys = new Set<string>();
    const fileKeys = new Map<string, ServedEntry | undefined>();
    // names whose group of files changes: every flow of such a group is derived again
    const names = new Set<string>();
    for (const ch of changes) {
      const old = this.files.get(ch.path);
      for (const f of [old, ch.after]) if (typeof f?.summary?.name === 'string') names.add(f.summary.name.toLowerCase());
      // what was served at this path: a file without a parseable uid takes over its quarantine
      const at = this.servedAt.get(ch.path);
      if (at !== undefined) keys.add(at);
      if (old) {
        keys.add(servedKeyOf(old));
        this.unindex(old);
      }
      if (ch.after) {
        this.files.set(ch.path, ch.after);
        this.indexFile(ch.after);
        const key = servedKeyOf(ch.after);
        if (key.startsWith('file:')) fileKeys.set(key, at === undefined ? undefined : this.served.get(at));
        else keys.add(key);
      } else this.files.delete(ch.path);
    }
    for (const name of names) {
      for (const p of this.namePaths.get(`name:${name}`) ?? []) {
        const key = servedKeyOf(this.files.get(p) as FlowFileState);
        if (!key.startsWith('file:')) keys.add(key);
      }
    }
    const changed: string[] = [];
    // uids first: a `file:` entry may then take over the quarantined content of the uid it had
    for (const key of keys) {
      if (key.startsWith('file:')) {
        if (!fileKeys.has(key)) this.setServed(key, undefined, changed);
        continue;
      }
      const paths = [...(this.uidPaths.get(key) ?? [])].sort();
      const files = paths.map((p) => this.files.get(p) as FlowFileState);
      this.setServed(key, files.length === 0 ? undefined : servedEntry(key, files, this.served.get(key), this.nameFindings(files[0] as FlowFileState)), changed);
    }
    for (const [key, previous] of fileKeys) {
      const file = this.files.get(key.slice('file:'.length)) as FlowFileState;
      const entry = servedEntry(key, [file], previous);
      // a quarantine under the old uid, unless a file declares that uid again
      if (entry.uid !== key && this.uidPaths.has(entry.uid)) this.setServed(key, servedEntry(key, [file], undefined), changed);
      else this.setServed(entry.uid, entry, changed);
    }
    this.gen++;
    return [...new Set(changed)];
  }

  /** The repository rule on names (core/checkRepository.ts) for one file: another file uses its name, in any case. */
  private nameFindings(file: FlowFileState): Finding[] {
    const name = file.summary?.name;
    if (typeof name !== 'string') return [];
    const group = this.namePaths.get(`name:${name.toLowerCase()}`);
    if (!group || group.size < 2) return [];
    const entries = [...group].map((p) => {
      const f = this.files.get(p) as FlowFileState;
      return { file: p, value: { uid: `path:${p}`, name: String(f.summary?.name) } as unknown as FlowFile };
    });
    return checkRepository(entries).filter((f) => f.file === file.path);
  }

  private setServed(key: string, entry: ServedEntry | undefined, changed: string[]): void {
    const before = this.served.get(key);
    if (before && this.servedAt.get(before.path) === key) this.servedAt.delete(before.path);
    if (entry) {
      this.served.set(key, entry);
      this.servedAt.set(entry.path, key);
    } else this.served.delete(key);
    if (servedDiffers(before, entry)) changed.push(key);
  }

  private keysOf(f: FlowFileState): { uid: string | null; names: string[] } {
    const uid = typeof f.summary?.uid === 'string' ? f.summary.uid : null;
    const names = [`path:${f.path.toLowerCase()}`];
    if (typeof f.summary?.name === 'string') names.push(`name:${f.summary.name.toLowerCase()}`);
    return { uid, names };
  }

  private indexFile(f: FlowFileState): void {
    const k = this.keysOf(f);
    if (k.uid !== null) addTo(this.uidPaths, k.uid, f.path);
    for (const n of k.names) addTo(this.namePaths, n, f.path);
  }

  private unindex(f: FlowFileState): void {
    const k = this.keysOf(f);
    if (k.uid !== null) removeFrom(this.uidPaths, k.uid, f.path);
    for (const n of k.names) removeFrom(this.namePaths, n, f.path);
  }

  /** The flow file at a repository-relative path. */
  file(path: string): FlowFileState | undefined {
    return this.files.get(path);
  }

  /** Every flow file. */
  allFiles(): IterableIterator<FlowFileState> {
    return this.files.values();
  }

  /** The flow files declaring `uid`, by path (more than one is a repository finding). */
  filesOf(uid: string): FlowFileState[] {
    return [...(this.uidPaths.get(uid) ?? [])].sort().map((p) => this.files.get(p) as FlowFileState);
  }

  /** The paths whose name or file name clashes with `name` / `path` (compared without case). */
  nameClashes(name: string, path: string): string[] {
    const out = new Set<string>();
    for (const key of [`name:${name.toLowerCase()}`, `path:${path.toLowerCase()}`]) for (const p of this.namePaths.get(key) ?? []) out.add(p);
    return [...out];
  }

  /** The served flow `uid`, or FLOW_NOT_FOUND. */
  get(uid: string): ServedEntry {
    const s = typeof uid === 'string' ? this.served.get(uid) : undefined;
    if (!s) throw flowNotFound(uid);
    return s;
  }

  /** The served flow `uid`, if there is one. */
  find(uid: string): ServedEntry | undefined {
    return this.served.get(uid);
  }

  /** Every served flow. */
  all(): IterableIterator<ServedEntry> {
    return this.served.values();
  }

  /** Number of served flows. */
  get size(): number {
    return this.served.size;
  }
}

function addTo(map: Map<string, Set<string>>, key: string, path: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(path);
}

function removeFrom(map: Map<string, Set<string>>, key: string, path: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(path);
  if (set.size === 0) map.delete(key);
}

import { promises as fsp, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { storageError } from './fsWrite.ts';
import type { TextInspection } from './inspectFlow.ts';
import type { Inspection } from './types.ts';

type Entry = Inspection;

const FORMAT = 2;

/** DB-GPT's origin id of a node: its id without the last `_<n>` instance suffix (get_origin_id). */
function originId(id: string): string {
  const at = id.lastIndexOf('_');
  return at > 0 ? id.slice(0, at) : id;
}

/**
 * The parsed-flow cache: for each blob id (and file name, which a rule checks), the flow's summary
 * and its findings. Persisted, so that a restart parses only files that changed. Full flows are
 * not kept: 10,000 corpus-sized flows would not fit the memory budget.
 */
export class SummaryCache {
  private entries = new Map<string, Entry>();
  private dirty = false;

  constructor(private readonly file: string) {}

  /** The cache key of a blob at a path. */
  static key(blob: string, path: string): string {
    return `${blob}:${posix.basename(path)}`;
  }

  /** Loads the persisted cache (a missing or corrupt file is an empty cache). */
  load(): void {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { format: number; entries: Record<string, Entry> };
      if (data.format === FORMAT) this.entries = new Map(Object.entries(data.entries));
    } catch {
      // start empty
    }
  }

  /** The cached entry for a blob at a path. */
  get(blob: string, path: string): Entry | undefined {
    return this.entries.get(SummaryCache.key(blob, path));
  }

  /** Caches what inspecting a blob at a path found, and returns the entry. */
  put(blob: string, path: string, inspection: TextInspection): Entry {
    let summary: Entry['summary'] = null;
    const nodes = new Set<string>();
    if (inspection.value) {
      const { flow_data: fd, ...rest } = inspection.value;
      summary = rest as unknown as Entry['summary'];
      const list = fd && typeof fd === 'object' && Array.isArray(fd.nodes) ? fd.nodes : [];
      for (const n of list) if (n && typeof n === 'object' && typeof n.id === 'string') nodes.add(originId(n.id));
    }
    // strings parsed from a file are slices of its whole text: a JSON copy keeps only what is needed
    const entry = JSON.parse(JSON.stringify({ summary, findings: inspection.findings.map((f) => ({ ...f, file: '' })), nodes: [...nodes] })) as Entry;
    this.entries.set(SummaryCache.key(blob, path), entry);
    this.dirty = true;
    return entry;
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops the entry of a blob at a path (its file now holds other content). */
  delete(blob: string, path: string): void {
    if (this.entries.delete(SummaryCache.key(blob, path))) this.dirty = true;
  }

  /** Writes the cache, keeping only the entries in `live` (the blobs still in use). */
  async persist(live?: Set<string>): Promise<void> {
    if (live) {
      for (const k of this.entries.keys()) {
        if (!live.has(k)) {
          this.entries.delete(k);
          this.dirty = true;
        }
      }
    }
    if (!this.dirty) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    await fsp.mkdir(join(this.file, '..'), { recursive: true });
    try {
      await fsp.writeFile(tmp, JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.entries) }));
      await fsp.rename(tmp, this.file);
    } catch (err) {
      // a full disk leaves the old cache whole, and no partial temporary file beside it
      await fsp.rm(tmp, { force: true });
      throw storageError(err, this.file);
    }
    this.dirty = false;
  }
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Json } from '../core/types.ts';
import type { TextInspection } from './inspectFlow.ts';

/**
 * Flow file texts at least this long are inspected in a worker thread: the `yaml` package reads a
 * non-canonical file at about 1 MB/s, so a 300 KB file from an editor or a pull would hold every
 * request for a third of a second or more.
 */
export const LARGE_TEXT = 64 * 1024;

interface Job {
  resolve: (r: { value?: Json; findings?: TextInspection['findings'] } | null) => void;
}

/**
 * One worker thread that parses and validates large flow files (inspectWorker.ts), started on
 * first use and unref'd, so that reading them never blocks the event loop. When the worker
 * cannot run (it failed to start or died) `inspect` answers null and the caller inspects on its
 * own thread: slower for others, never wrong.
 */
export class InspectPool {
  private worker: Worker | null = null;
  private broken = false;
  private next = 0;
  private readonly jobs = new Map<number, Job>();

  private start(): Worker | null {
    if (this.broken) return null;
    if (this.worker) return this.worker;
    try {
      const fromSources = import.meta.url.endsWith('.ts');
      const url = new URL(`./inspectWorker.${fromSources ? 'ts' : 'js'}`, import.meta.url);
      // run from the TypeScript sources (tests, tsx): the worker registers tsx's loader before it loads the .ts
      const entry = fromSources
        ? new URL(`data:text/javascript,${encodeURIComponent(`const { register } = await import(${JSON.stringify(pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href)});\nregister();\nawait import(${JSON.stringify(url.href)});\n`)}`)
        : url;
      const w = new Worker(entry);
      w.unref();
      w.on('message', (m: { id: number; result?: { value?: Json; findings?: TextInspection['findings'] }; error?: string }) => {
        const job = this.jobs.get(m.id);
        this.jobs.delete(m.id);
        job?.resolve(m.result ?? null);
      });
      const fail = (): void => {
        this.broken = true;
        this.worker = null;
        for (const job of this.jobs.values()) job.resolve(null);
        this.jobs.clear();
      };
      w.on('error', fail);
      w.on('exit', () => {
        if (this.worker === w) fail();
      });
      this.worker = w;
      return w;
    } catch {
      this.broken = true;
      return null;
    }
  }

  private run(kind: 'inspect' | 'parse', text: string, file: string): Promise<{ value?: Json; findings?: TextInspection['findings'] } | null> {
    const w = this.start();
    if (w === null) return Promise.resolve(null);
    const id = this.next++;
    return new Promise((resolve) => {
      this.jobs.set(id, { resolve });
      w.postMessage({ id, kind, text, file });
    });
  }

  /** The inspection of `text` (a flow file `file`) made in the worker; null: inspect it here instead. */
  async inspect(text: string, file: string): Promise<TextInspection | null> {
    const r = await this.run('inspect', text, file);
    return r === null ? null : (r as TextInspection);
  }

  /** The value of a YAML text parsed in the worker (undefined: it does not parse); null: parse it here instead. */
  async parse(text: string): Promise<{ value: Json | undefined } | null> {
    const r = await this.run('parse', text, '');
    return r === null ? null : { value: r.value };
  }

  /** Stops the worker (the store closes). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    for (const job of this.jobs.values()) job.resolve(null);
    this.jobs.clear();
    if (w) await w.terminate();
  }
}

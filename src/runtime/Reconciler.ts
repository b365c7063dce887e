import type { DbgptFlow, Json, JsonObject } from '../core/types.ts';
import type { RuntimeView } from '../service/FlowService.ts';
import type { ChangeBatch } from '../store/types.ts';
import type { Scheduler, TimerHandle } from '../watch/Scheduler.ts';
import { contentDigest, deployBody, LIVE_STATES, parseProvenance, type Provenance } from './provenance.ts';
import { RuntimeClient, RuntimeError } from './RuntimeClient.ts';
import type { RuntimeFlowStatus, RuntimeReporter, RuntimeRouter, RuntimeTarget } from './types.ts';

import type { DriftMode } from '../core/runtimeTarget.ts';

export type { DriftMode };

/** What the reconciler reads of the served flows: the flow service's side of it. */
export interface DesiredFlows {
  /** The served content a runtime should run for a flow, or null (no valid content). */
  deploySpec(uid: string): Promise<{ flow: DbgptFlow; path: string; version: string } | null>;
  /** Every served uid. */
  servedUids(): string[];
  /** Shows the runtimes' word on each flow in served answers. */
  setRuntimeView(view: RuntimeView | null): void;
}

/** The change stream the reconciler follows: the store's, the same one the served index is fed by. */
export interface ChangeStream {
  subscribe(listener: (batch: ChangeBatch) => void): () => void;
}

export interface ReconcilerOptions {
  targets: RuntimeTarget[];
  /** The repository's id in provenance: flows of another owner are never touched. */
  owner: string;
  /** A full pass (list every flow of each runtime) this often, in ms; also the longest wait to retry a runtime that is down. */
  intervalMs: number;
  drift: DriftMode;
  scheduler: Scheduler;
  /** Writes in flight per runtime during a pass (default 4). */
  concurrency?: number;
  /** Timeout of one call to a runtime, in ms (default 10 s). */
  timeoutMs?: number;
  /** Log events (never carries a key). */
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, msg: string) => void;
}

/** A flow as the reconcile last saw it on one runtime. */
interface Observed {
  name: string | null;
  /** Digest of the content on the runtime now. */
  digest: string;
  /** null: flowreg (this owner) did not put it there. */
  prov: Provenance | null;
  /** Owner of a flow another flowreg put there, or null. */
  foreignOwner: string | null;
  live: boolean;
  metadata: Json;
}

/** One drift found on a runtime: a change made there behind flowreg's back. */
export interface DriftEntry {
  runtime: string;
  uid: string;
  name: string | null;
  kind: 'changed' | 'deleted' | 'added';
  detected_at: string;
  /** What was done: healed (set back to git's version), pruned (deleted), reported (left as found). */
  action: 'healed' | 'pruned' | 'reported';
  resolved_at: string | null;
}

/** Per runtime: what was seen there, the failures, the drift, and its work queue. */
class RuntimeState {
  readonly client: RuntimeClient;
  readonly observed = new Map<string, Observed>();
  /** The flows this reconcile put there (or found there as its own), to tell "deleted behind our back" from "never deployed". */
  readonly deployed = new Set<string>();
  /** The last failure per flow, with the digest it was for. */
  readonly errors = new Map<string, { digest: string; message: string }>();
  readonly drift = new Map<string, DriftEntry>();
  down: string | null = null;
  /** Failed passes in a row, for the retry backoff. */
  failures = 0;
  lastPass: { at: string; ms: number; writes: number } | null = null;
  listed = false;
  readonly dirty = new Set<string>();
  full = true;
  running: Promise<void> | null = null;
  timer: TimerHandle | null = null;

  constructor(
    readonly target: RuntimeTarget,
    timeoutMs: number,
  ) {
    this.client = new RuntimeClient(target, timeoutMs);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Biggest partial pass that reads back each written flow (metadata) with a GET; a bigger one lists once after. */
const READ_BACK_LIMIT = 16;

/**
 * Keeps every runtime on what git says (docs/runtimes.md). The desired state is the served flows
 * in a live state (`deployed`, `running`); each runtime's actual state is what it lists. The
 * difference is applied through DB-GPT's flow API, touching only flows whose provenance
 * (`source: flowreg`, `source_url: flowreg://<owner>/…`) names this repository. It follows the
 * store's change stream (each changed flow is applied at once) and lists each runtime every
 * `intervalMs` (a restarted runtime, drift). Each runtime has its own queue: one that is down
 * delays only itself, and is retried with backoff.
 */
export class Reconciler implements RuntimeRouter, RuntimeReporter, RuntimeView {
  readonly targets: readonly RuntimeTarget[];
  private readonly states: RuntimeState[];
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private gen = 0;
  private readonly stamps = new Map<string, { key: string; stamp: number }>();
  /** Digest of each flow's desired content, from the last time it was applied (for the overlay). */
  private readonly desired = new Map<string, string | null>();
  /** Who hears of a change of a runtime's report (the web app's event stream). */
  private readonly watchers = new Set<(runtime: string) => void>();
  /** Each runtime's report as last announced, less the time of its last pass. */
  private readonly announced = new Map<string, string>();

  constructor(
    private readonly flows: DesiredFlows,
    private readonly stream: ChangeStream,
    private readonly opts: ReconcilerOptions,
  ) {
    this.targets = opts.targets;
    this.states = opts.targets.map((t) => new RuntimeState(t, opts.timeoutMs ?? 10_000));
  }

  /** Follows the change stream and starts a full pass on every runtime (it does not wait for them). */
  start(): void {
    this.flows.setRuntimeView(this);
    this.unsubscribe = this.stream.subscribe((batch) => this.onChanges(batch));
    for (const st of this.states) this.kick(st);
  }

  /** Stops following changes and the timers, and waits for passes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const st of this.states) {
      if (st.timer !== null) this.opts.scheduler.clearTimeout(st.timer);
      st.timer = null;
    }
    await Promise.all(this.states.map((st) => st.running));
    this.flows.setRuntimeView(null);
  }

  /** Resolves when every runtime's queue is empty (tests and benchmarks wait on it). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = this.states.filter((st) => st.running !== null);
      if (busy.length === 0) return;
      await Promise.all(busy.map((st) => st.running));
    }
  }

  /** Asks for a full pass on every runtime now (the webhook, `POST /runtimes/reconcile`). */
  reconcileNow(): Promise<void> {
    for (const st of this.states) {
      st.full = true;
      if (st.timer !== null) this.opts.scheduler.clearTimeout(st.timer);
      st.timer = null;
      this.kick(st);
    }
    return this.idle();
  }

  private onChanges(batch: ChangeBatch): void {
    const uids = batch.uids.filter((u) => !u.startsWith('file:'));
    if (uids.length === 0) return;
    for (const st of this.states) {
      for (const u of uids) st.dirty.add(u);
      this.kick(st);
    }
  }

  private kick(st: RuntimeState): void {
    if (this.stopped || st.running !== null) return;
    // a runtime that is down is tried again by its retry timer, not by every change
    if (st.down !== null && st.timer !== null) return;
    if (st.timer !== null) {
      this.opts.scheduler.clearTimeout(st.timer);
      st.timer = null;
    }
    st.running = this.drain(st).catch((err: unknown) => {
      // a bug, not the runtime: no busy loop; the next full pass comes with the timer
      this.opts.log?.('warn', { runtime: st.target.name, err }, 'reconcile pass failed');
      st.full = false;
      st.dirty.clear();
    }).finally(() => {
      st.running = null;
      this.announce(st);
      if (this.stopped) return;
      if (st.full || st.dirty.size > 0) {
        // work that came in while the runtime was down waits for the retry timer
        if (st.down === null) this.kick(st);
        return;
      }
      this.arm(st, this.opts.intervalMs);
    });
  }

  /** The next full pass after `ms`. */
  private arm(st: RuntimeState, ms: number): void {
    if (this.stopped) return;
    if (st.timer !== null) this.opts.scheduler.clearTimeout(st.timer);
    st.timer = this.opts.scheduler.setTimeout(() => {
      st.timer = null;
      st.full = true;
      this.kick(st);
    }, ms);
    st.timer.unref?.();
  }

  private async drain(st: RuntimeState): Promise<void> {
    while (!this.stopped && (st.full || st.dirty.size > 0)) {
      const started = this.opts.scheduler.now();
      let writes = 0;
      try {
        if (st.full || !st.listed) {
          st.full = false;
          st.dirty.clear();
          writes = await this.fullPass(st);
        } else {
          const uids = [...st.dirty];
          st.dirty.clear();
          writes = await this.partialPass(st, uids);
        }
        if (st.down !== null) this.opts.log?.('info', { runtime: st.target.name, url: st.target.url }, 'runtime is reachable again');
        st.down = null;
        st.failures = 0;
        st.lastPass = { at: iso(this.opts.scheduler.now()), ms: this.opts.scheduler.now() - started, writes };
      } catch (err) {
        if (!(err instanceof RuntimeError) || !err.runtimeDown) throw err;
        this.markDown(st, err.message);
        st.full = true;
        // 1 s, 2 s, 4 s … up to the interval
        this.arm(st, Math.min(this.opts.intervalMs, 1000 * 2 ** Math.min(st.failures - 1, 10)));
        return;
      }
    }
  }

  private markDown(st: RuntimeState, reason: string): void {
    if (st.down === null) this.opts.log?.('warn', { runtime: st.target.name, url: st.target.url, reason }, 'runtime is down: its flows are retried');
    st.down = reason;
    st.failures++;
    this.touchAll(st);
  }

  /** Lists the runtime, then applies every flow served or seen there. */
  private async fullPass(st: RuntimeState): Promise<number> {
    const items = await st.client.list();
    st.observed.clear();
    for (const item of items) st.observed.set(String(item.uid), this.observe(item));
    const seen = new Set(st.observed.keys());
    // flows this reconcile put there that are gone now: deleted behind its back (or lost)
    for (const uid of st.deployed) if (!seen.has(uid)) seen.add(uid);
    if (!st.listed) for (const [uid, o] of st.observed) if (o.prov !== null) st.deployed.add(uid);
    // an added flow that is gone again is no drift any more
    for (const [uid, d] of st.drift) if (d.kind === 'added' && !st.observed.has(uid)) st.drift.delete(uid);
    st.listed = true;
    const uids = new Set([...this.flows.servedUids(), ...seen]);
    const writes = await this.applyAll(st, [...uids]);
    this.touchAll(st);
    // many flows written without reading each back: one more list brings their metadata
    if (writes > READ_BACK_LIMIT) st.full = true;
    return writes;
  }

  /** Applies the flows a batch of changes named, from what was seen at the last list. */
  private async partialPass(st: RuntimeState, uids: string[]): Promise<number> {
    const writes = await this.applyAll(st, uids);
    if (writes > READ_BACK_LIMIT) st.full = true;
    return writes;
  }

  private async applyAll(st: RuntimeState, uids: string[]): Promise<number> {
    let writes = 0;
    let next = 0;
    let failure: unknown = null;
    const readBack = uids.length <= READ_BACK_LIMIT;
    const worker = async (): Promise<void> => {
      while (failure === null && next < uids.length && !this.stopped) {
        const uid = uids[next++]!;
        try {
          if (await this.apply(st, uid, readBack)) writes++;
        } catch (err) {
          if (err instanceof RuntimeError && err.runtimeDown) failure = err;
          // anything else is this flow's problem (a blob that cannot be read…): shown for it, the pass goes on
          else this.fail(st, uid, '', `flowreg could not deploy it: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency ?? 4) }, worker));
    if (failure !== null) throw failure;
    return writes;
  }

  private observe(item: JsonObject): Observed {
    const raw = parseProvenance(item);
    const prov = raw !== null && raw.owner === this.opts.owner ? raw : null;
    return {
      name: typeof item.name === 'string' ? item.name : null,
      digest: contentDigest(item),
      prov,
      foreignOwner: raw !== null && prov === null ? raw.owner : null,
      live: item.metadata !== null && item.metadata !== undefined,
      metadata: (item.metadata ?? null) as Json,
    };
  }

  /**
   * Brings one flow on one runtime to what git says. Returns true when it wrote. A refusal of
   * the flow (E0003…) is recorded and shown; a runtime that is down throws (the pass stops).
   */
  private async apply(st: RuntimeState, uid: string, readBack: boolean): Promise<boolean> {
    const spec = await this.flows.deploySpec(uid);
    const state = spec === null ? null : String(spec.flow.state ?? '');
    const want = spec !== null && state !== null && LIVE_STATES.has(state) ? spec : null;
    const digest = want === null ? null : contentDigest(want.flow);
    this.desired.set(uid, digest);
    const have = st.observed.get(uid);
    const now = iso(this.opts.scheduler.now());
    const mode = this.opts.drift;

    if (have !== undefined && have.prov === null) {
      // not flowreg's (or another repository's): never touched, unless pruning a flow git does not have
      if (want === null && spec === null && have.foreignOwner === null) {
        this.noteDrift(st, uid, have.name, 'added', mode === 'prune' ? 'pruned' : 'reported', now);
        if (mode === 'prune') {
          await this.write(st, uid, null, async () => st.client.delete(uid));
          st.observed.delete(uid);
          this.resolveDrift(st, uid, now);
          return true;
        }
      } else if (want !== null) {
        const who = have.foreignOwner !== null ? `another flowreg (${have.foreignOwner})` : 'someone else (not flowreg)';
        this.fail(st, uid, digest!, `uid ${uid} is taken on runtime ${st.target.name} by a flow ${who} put there; flowreg does not touch it`);
      }
      this.touch(uid);
      return false;
    }

    if (want === null) {
      this.resolveDrift(st, uid, now);
      st.errors.delete(uid);
      if (have === undefined) {
        st.deployed.delete(uid);
        this.touch(uid);
        return false;
      }
      // ours, and git no longer wants it live: undeploy
      await this.write(st, uid, null, async () => st.client.delete(uid));
      st.observed.delete(uid);
      st.deployed.delete(uid);
      this.touch(uid);
      return true;
    }

    const prov: Provenance = { owner: this.opts.owner, path: want.path, commit: want.version, digest: digest! };
    const body = deployBody(want.flow, prov);

    if (have === undefined) {
      if (st.deployed.has(uid)) {
        this.noteDrift(st, uid, want.flow.name as string, 'deleted', mode === 'report' ? 'reported' : 'healed', now);
        if (mode === 'report') {
          this.touch(uid);
          return false;
        }
      }
      const ok = await this.write(st, uid, digest!, async () => {
        try {
          await st.client.create(body);
        } catch (err) {
          // already there after all (created by a pass that did not see the answer): update it
          if (err instanceof RuntimeError && err.kind === 'conflict') await this.replace(st, body);
          else throw err;
        }
      });
      if (ok) await this.settle(st, uid, body, readBack, now);
      return true;
    }

    const edited = have.prov !== null && have.digest !== have.prov.digest;
    if (edited) {
      this.noteDrift(st, uid, have.name, 'changed', mode === 'report' && have.prov!.digest === digest ? 'reported' : 'healed', now);
      if (mode === 'report' && have.prov!.digest === digest) {
        this.touch(uid);
        return false;
      }
    }
    if (!edited && have.prov!.digest === digest && have.digest === digest && have.live && have.prov!.commit === want.version) {
      this.resolveDrift(st, uid, now);
      if (st.errors.delete(uid)) this.touch(uid);
      st.deployed.add(uid);
      return false;
    }
    // git changed it, it was edited there, or it is not registered (a restarted runtime that failed to load it)
    const ok = await this.write(st, uid, digest!, async () => this.replace(st, body));
    if (ok) await this.settle(st, uid, body, readBack, now);
    return true;
  }

  /** PUT, or delete and create where DB-GPT's PUT cannot make the move (not editable, a state it refuses). */
  private async replace(st: RuntimeState, body: JsonObject): Promise<void> {
    try {
      await st.client.update(body);
    } catch (err) {
      if (!(err instanceof RuntimeError) || err.runtimeDown) throw err;
      await st.client.delete(String(body.uid)).catch((e: unknown) => {
        if (e instanceof RuntimeError && e.runtimeDown) throw e;
      });
      await st.client.create(body);
    }
  }

  /** Runs a write; a refusal of the flow is recorded (false), a runtime down is thrown. */
  private async write(st: RuntimeState, uid: string, digest: string | null, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (!(err instanceof RuntimeError) || err.runtimeDown) throw err;
      this.fail(st, uid, digest ?? '', err.message);
      // what is there now is unknown: look again at the next list
      st.observed.delete(uid);
      return false;
    }
  }

  /** After a successful create or update: the flow is ours and live there (read back for its metadata when the batch is small). */
  private async settle(st: RuntimeState, uid: string, body: JsonObject, readBack: boolean, now: string): Promise<void> {
    st.errors.delete(uid);
    st.deployed.add(uid);
    this.resolveDrift(st, uid, now);
    let seen: Observed | null = null;
    if (readBack) {
      const item = await st.client.get(uid);
      if (item !== null) seen = this.observe(item);
    }
    st.observed.set(uid, seen ?? { name: String(body.name), digest: String(parseProvenance(body)?.digest), prov: parseProvenance(body), foreignOwner: null, live: true, metadata: null });
    this.touch(uid);
  }

  private fail(st: RuntimeState, uid: string, digest: string, message: string): void {
    const prev = st.errors.get(uid);
    const msg = message.length > 500 ? `${message.slice(0, 497)}...` : message;
    if (prev?.message !== msg) this.opts.log?.('warn', { runtime: st.target.name, uid, error: msg }, 'runtime refused a flow');
    st.errors.set(uid, { digest, message: msg });
    this.touch(uid);
  }

  private noteDrift(st: RuntimeState, uid: string, name: string | null, kind: DriftEntry['kind'], action: DriftEntry['action'], now: string): void {
    const open = st.drift.get(uid);
    if (open !== undefined && open.resolved_at === null && open.kind === kind) return;
    st.drift.set(uid, { runtime: st.target.name, uid, name, kind, detected_at: now, action, resolved_at: null });
    this.opts.log?.('warn', { runtime: st.target.name, uid, name, kind, action }, 'drift on a runtime');
  }

  private resolveDrift(st: RuntimeState, uid: string, now: string): void {
    const open = st.drift.get(uid);
    if (open !== undefined && open.resolved_at === null && open.action !== 'reported') open.resolved_at = now;
    if (open !== undefined && open.resolved_at === null && open.action === 'reported') st.drift.delete(uid);
  }

  // ---- RuntimeRouter ----

  liveOn(uid: string): RuntimeTarget[] {
    const up: RuntimeTarget[] = [];
    const down: RuntimeTarget[] = [];
    for (const st of this.states) {
      const o = st.observed.get(uid);
      if (o === undefined || o.prov === null || !o.live) continue;
      (st.down === null ? up : down).push(st.target);
    }
    return [...up, ...down];
  }

  statusOf(uid: string): RuntimeFlowStatus[] {
    return this.states.map((st) => {
      const o = st.observed.get(uid);
      const ours = o !== undefined && o.prov !== null;
      const error = st.errors.get(uid)?.message ?? (st.down !== null ? `down: ${st.down}` : !st.listed ? 'not reconciled yet' : null);
      return { runtime: st.target.name, live: ours && o.live && st.down === null, commit: ours ? o.prov!.commit : null, metadata: ours ? o.metadata : null, error };
    });
  }

  reportDown(target: RuntimeTarget, reason: string): void {
    const st = this.states.find((s) => s.target === target || s.target.name === target.name);
    if (st === undefined) return;
    this.markDown(st, reason);
    this.announce(st);
    st.full = true;
    if (st.running === null) this.arm(st, 1000);
  }

  // ---- RuntimeView (what served answers show) ----

  get generation(): number {
    return this.gen;
  }

  stamp(uid: string): number {
    return this.stamps.get(uid)?.stamp ?? 0;
  }

  overlay(uid: string): { metadata: Json; state?: string; error_message?: string } | null {
    if ((this.desired.get(uid) ?? null) === null) return null;
    const all = this.statusOf(uid);
    const live = all.find((s) => s.live);
    if (live !== undefined) return { metadata: live.metadata as Json, state: 'running' };
    const refused = this.states.filter((st) => st.errors.has(uid)).map((st) => `${st.target.name}: ${st.errors.get(uid)!.message}`);
    if (refused.length > 0) return { metadata: null, state: 'load_failed', error_message: refused.join('; ').slice(0, 500) };
    return null;
  }

  /** Recomputes a flow's overlay key; a change bumps its stamp and the generation (served caches rebuild). */
  private touch(uid: string): void {
    const key = JSON.stringify(this.overlay(uid));
    const prev = this.stamps.get(uid);
    if (prev?.key === key) return;
    this.gen++;
    this.stamps.set(uid, { key, stamp: (prev?.stamp ?? 0) + 1 });
  }

  private touchAll(st: RuntimeState): void {
    for (const uid of new Set([...st.observed.keys(), ...st.errors.keys(), ...this.desired.keys()])) this.touch(uid);
  }

  // ---- RuntimeReporter ----

  /** The drift still open (and the last resolved ones), newest first. */
  driftList(): DriftEntry[] {
    return this.states.flatMap((st) => [...st.drift.values()]).sort((a, b) => (a.detected_at < b.detected_at ? 1 : -1));
  }

  /**
   * Calls `listener` with a runtime's name whenever what report() says of it changed (up or down,
   * what is live, refused, deployed, its drift), after the pass or deploy that changed it; not for
   * a pass that changed nothing. Returns the function that unsubscribes.
   */
  subscribe(listener: (runtime: string) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private announce(st: RuntimeState): void {
    const key = JSON.stringify({ ...this.runtimeReport(st), last_pass: null, drift: [...st.drift.values()] });
    if (this.announced.get(st.target.name) === key) return;
    this.announced.set(st.target.name, key);
    for (const listener of this.watchers) {
      try {
        listener(st.target.name);
      } catch (err) {
        this.opts.log?.('warn', { runtime: st.target.name, err }, 'a listener of runtime changes failed');
      }
    }
  }

  private runtimeReport(st: RuntimeState): Record<string, unknown> {
    let live = 0;
    for (const o of st.observed.values()) if (o.prov !== null && o.live) live++;
    return {
      name: st.target.name,
      url: st.target.url,
      up: st.down === null && st.listed,
      error: st.down,
      last_pass: st.lastPass,
      live,
      failed: [...st.errors].map(([uid, e]) => ({ uid, error: e.message })),
      unmanaged: [...st.observed].filter(([, o]) => o.prov === null).map(([uid, o]) => ({ uid, name: o.name, owner: o.foreignOwner })),
      // per flow flowreg put there: the commit deployed and whether it is live (the web app's runtimes page)
      flows: [...st.observed]
        .flatMap(([uid, o]) => (o.prov === null ? [] : [{ uid, name: o.name, commit: o.prov.commit, live: o.live }]))
        .sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0)),
    };
  }

  report(): Record<string, unknown> {
    const runtimes = this.states.map((st) => this.runtimeReport(st));
    const desired = [...this.desired.values()].filter((d) => d !== null).length;
    return { owner: this.opts.owner, drift_mode: this.opts.drift, interval_s: this.opts.intervalMs / 1000, desired, runtimes, drift: this.driftList() };
  }
}

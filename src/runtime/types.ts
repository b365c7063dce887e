import type { RuntimeTarget } from '../core/runtimeTarget.ts';

export type { RuntimeTarget };

/** What one runtime says of one flow, as the reconcile last saw it. */
export interface RuntimeFlowStatus {
  runtime: string;
  /** The flow is registered there (DB-GPT answers it with `metadata`), at `commit`. */
  live: boolean;
  /** The commit of the flow's content on the runtime (from flowreg's provenance); null: not deployed. */
  commit: string | null;
  /** DB-GPT's `metadata` of the flow there (null when not live). */
  metadata: unknown;
  /** The runtime's own error for this flow (e.g. E0003 "Operator … not registered"), or why it is unreachable. */
  error: string | null;
}

/**
 * What the server needs from the runtimes: where a flow is live (for chat) and why not. The
 * reconciler implements it; without runtimes the daemon passes null.
 */
export interface RuntimeRouter {
  /** The configured runtimes, in configuration order. */
  readonly targets: readonly RuntimeTarget[];
  /** The runtimes where the flow is live now, best first (a runtime seen down last comes last). */
  liveOn(uid: string): RuntimeTarget[];
  /** Per runtime, the flow's status there (for answers that say why a flow cannot be chatted with). */
  statusOf(uid: string): RuntimeFlowStatus[];
  /** Tells the router a runtime failed a forwarded request (connection refused, 5xx): chat then prefers the others. */
  reportDown(target: RuntimeTarget, reason: string): void;
}

/** The runtimes' state for `GET /runtimes` and `flowreg status` (docs/runtimes.md). */
export interface RuntimeReporter {
  /** Per runtime: reachable or why not, last reconcile, counts; and the drift found. */
  report(): Record<string, unknown>;
}

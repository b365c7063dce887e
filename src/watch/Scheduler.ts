/** A timer the scheduler handed out. */
export interface TimerHandle {
  /** Lets the process exit while the timer is pending (real timers only). */
  unref?: () => void;
}

/**
 * Time and timers, injected into every loop (the watcher's batching, the HEAD poll, the fetch
 * interval), so that tests advance time themselves and wait on events instead of sleeping.
 */
export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock and Node's timers. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A scheduler whose time moves only when the test says so. */
import type { Scheduler, TimerHandle } from '../../src/watch/Scheduler.ts';

interface Task {
  at: number;
  seq: number;
  fn: () => void;
  handle: TimerHandle;
}

/** A Scheduler for tests: timers run only inside advance(), in due order. */
export class ManualScheduler implements Scheduler {
  private time: number;
  private seq = 0;
  private tasks: Task[] = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = {};
    this.tasks.push({ at: this.time + ms, seq: this.seq++, fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.tasks = this.tasks.filter((t) => t.handle !== handle);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.tasks.length;
  }

  /** Moves time forward by `ms`, running every timer that falls due (and those they set, if due). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.tasks.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.tasks = this.tasks.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}

/**
 * Runs tasks one at a time in the order they were queued. isomorphic-git and the index file both
 * lose commits under concurrent writers in one process, so every write of the store goes through
 * one queue.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Queues `task`; resolves or rejects with its result once it has run. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /** Number of tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /** Resolves when every task queued so far has finished. */
  async drain(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}

/** The headers that name one webhook delivery: GitHub's, Gitea's (and Gogs'), GitLab's. */
export const DELIVERY_HEADERS = ['x-github-delivery', 'x-gitea-delivery', 'x-gogs-delivery', 'x-gitlab-event-uuid'] as const;

/** How many delivery ids the webhook remembers (the oldest are forgotten first). */
export const REMEMBERED_DELIVERIES = 1000;

/** Longest delivery id kept (GitHub's and Gitea's are UUIDs); a longer header is cut to this. */
const MAX_ID_LENGTH = 200;

/**
 * What keeps a signed webhook call from being replayed into fetches. Each delivery id is accepted
 * once (the last `limit` ids are remembered); and the fetches that webhook calls start run one at
 * a time with at most one more queued behind it: calls that arrive meanwhile share the queued
 * fetch, which starts once the running one has finished and so sees every push they announce.
 * Holds no timer.
 */
export class WebhookGate {
  /** Delivery ids in the order they were first seen (a Map keeps insertion order). */
  private readonly seen = new Map<string, true>();
  private running: Promise<string[]> | null = null;
  private queued: Promise<string[]> | null = null;

  constructor(private readonly limit = REMEMBERED_DELIVERIES) {}

  /** The delivery id a call carries (a UUID for GitHub, Gitea and GitLab), null when it carries none. */
  static deliveryOf(header: (name: string) => string | undefined): string | null {
    for (const name of DELIVERY_HEADERS) {
      const value = header(name)?.trim();
      if (value) return value.slice(0, MAX_ID_LENGTH);
    }
    return null;
  }

  /** Records delivery `id`; false when it was already accepted (a replay, or a redelivery). */
  claim(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.set(id, true);
    while (this.seen.size > this.limit) this.seen.delete(this.seen.keys().next().value as string);
    return true;
  }

  /** Forgets delivery `id` (its fetch failed), so that the sender's retry of it is accepted. */
  release(id: string): void {
    this.seen.delete(id);
  }

  /**
   * Runs `fetch` now when no webhook fetch is running; else joins the one queued behind the
   * running fetch (queuing it if there is none yet). Resolves or rejects as that fetch does.
   */
  fetch(fetch: () => Promise<string[]>): Promise<string[]> {
    if (this.running === null) return this.start(fetch);
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start(fetch);
      });
    return this.queued;
  }

  private start(fetch: () => Promise<string[]>): Promise<string[]> {
    const run: Promise<string[]> = Promise.resolve()
      .then(fetch)
      .finally(() => {
        // the queued fetch, if any, takes over as the running one
        if (this.running === run && this.queued === null) this.running = null;
      });
    this.running = run;
    return run;
  }
}

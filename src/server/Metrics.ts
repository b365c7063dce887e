import { Gauge, Histogram, Registry } from 'prom-client';

/** Counts the metrics read from the service at each scrape. */
export type StatsSource = () => { flows: number; invalid: number };

/** The write operations whose commit latency is measured. */
export type WriteOperation = 'create' | 'update' | 'delete' | 'revert' | 'import';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The Prometheus metrics of one server, in a registry of its own (two apps in one process, as in
 * tests, never share or collide): request latency by route template and status, commit latency of
 * writes, and the number of flows and invalid flows read from the service when scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly writes: Histogram<'operation' | 'outcome'>;

  constructor(stats: StatsSource) {
    this.requests = new Histogram({
      name: 'flowreg_http_request_duration_seconds',
      help: 'Time from receiving a request to finishing its response, by route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.writes = new Histogram({
      name: 'flowreg_commit_duration_seconds',
      help: 'Time a write (create, update, delete, revert, import) took in the service, commit included, by outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    new Gauge({
      name: 'flowreg_flows',
      help: 'Number of flows served.',
      registers: [this.registry],
      collect() {
        this.set(stats().flows);
      },
    });
    new Gauge({
      name: 'flowreg_flows_invalid',
      help: 'Number of served flows whose file does not pass validation (state load_failed).',
      registers: [this.registry],
      collect() {
        this.set(stats().invalid);
      },
    });
  }

  /** Records one finished request; `route` is the route template, never the raw URL (bounded labels). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: String(status) }, seconds);
  }

  /** Runs one write of the service and records how long it took and whether it committed or failed. */
  async timeWrite<T>(operation: WriteOperation, write: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome = 'error';
    try {
      const result = await write();
      outcome = 'ok';
      return result;
    } finally {
      this.writes.observe({ operation, outcome }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** flowreg as the runtime tests talk to it: in-process, over a fresh repository, on a loopback port, no runtime configured. */
import { cpSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../../../src/server/createApp.ts';
import { FlowService } from '../../../src/service/FlowService.ts';
import { GitStore } from '../../../src/store/GitStore.ts';
import { inProcessRepo } from '../inProcessRepo.ts';

/** A running flowreg. */
export interface FlowregServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The repository's working tree (removed after the test file). */
  repo: string;
  service: FlowService;
  /** Stops listening, closes open connections and the service. */
  close(): Promise<void>;
}

/** Starts flowreg's app over a fresh repository; `templates`: a folder copied to the repository's `templates/`. */
export async function startFlowreg(opts: { templates?: string } = {}): Promise<FlowregServer> {
  const repo = await inProcessRepo({});
  if (opts.templates !== undefined) {
    mkdirSync(join(repo, 'templates'));
    cpSync(opts.templates, join(repo, 'templates'), { recursive: true });
  }
  const service = new FlowService(await GitStore.open({ dir: repo, durable: false }));
  const app = createApp({ service, logger: pino({ level: 'silent' }), apiKeys: [] });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    repo,
    service,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      service.close();
    },
  };
}

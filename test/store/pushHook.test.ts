/** A push the remote refuses with a reason of its own (a pre-receive hook): answered at once, with that reason. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowFile } from '../../src/core/types.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { errorAnswer } from '../../src/server/errorAnswer.ts';
import { GitStore, type WriteOp } from '../../src/store/GitStore.ts';
import { smallFlow } from '../helpers/flows.ts';
import { bareRepo, startGitHttpServer, type GitHttpServer } from '../helpers/gitHttpServer.ts';
import { git, tempDir } from '../helpers/tmp.ts';

const alice = { name: 'Alice', email: 'alice@example.com' };
const create = (f: FlowFile): WriteOp => ({ verb: 'create', uid: f.uid, author: alice, apply: () => f });
const update = (uid: string, label: string): WriteOp => ({ verb: 'update', uid, author: alice, apply: (c) => ({ ...(c?.file as FlowFile), label }) });

let server: GitHttpServer;
let root: string;
beforeAll(async () => {
  root = tempDir('flowreg-hook-remotes-');
  server = await startGitHttpServer(root);
});
afterAll(async () => server.close());

/** Installs a pre-receive hook that prints `reason` and refuses every push. */
function refuseWith(bare: string, reason: string): void {
  const hook = join(bare, 'hooks', 'pre-receive');
  writeFileSync(hook, `#!/bin/sh\necho "${reason}" >&2\nexit 1\n`);
  chmodSync(hook, 0o755);
}

describe('a push refused by a hook of the remote', () => {
  it('answers PUSH_REJECTED at once with the remote\'s reason, retries nothing and writes nothing', async () => {
    const bare = bareRepo(root, 'hooked');
    const store = await GitStore.open({ dir: join(tempDir(), 'clone'), remote: { url: `${server.url}/hooked.git`, branch: 'main' }, durable: false });
    await store.write(create(smallFlow('u-1', 'one')));
    const remoteHead = git(bare, ['rev-parse', 'main']);
    refuseWith(bare, 'policy: flows/one.yaml needs a review, push to a branch');
    const before = await server.requests();
    let err: unknown;
    try {
      await store.write(update('u-1', 'refused'));
    } catch (e) {
      err = e;
    }
    expect(isFlowregError(err, 'PUSH_REJECTED')).toBe(true);
    const answer = errorAnswer(err);
    expect(answer.status).toBe(409);
    expect(answer.body.err_msg).toContain('policy: flows/one.yaml needs a review, push to a branch');
    expect(answer.body.err_msg).toContain('pre-receive hook declined');
    expect(answer.body.err_msg).not.toMatch(/try again/);
    // one push (the refs advertisement and the receive-pack), no fetch and no second push
    expect((await server.requests()) - before).toBe(2);
    expect(git(bare, ['rev-parse', 'main'])).toBe(remoteHead);
    expect(git(store.dir, ['rev-parse', 'HEAD'])).toBe(remoteHead);
    expect(git(store.dir, ['status', '--porcelain'])).toBe('');
    await store.close();
  });
});

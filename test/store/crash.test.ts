import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitStore } from '../../src/store/GitStore.ts';
import { git, tempRepo } from '../helpers/tmp.ts';

const writer = resolve(import.meta.dirname, 'fixtures/crashWriter.ts');
const TRIALS = 20;

/**
 * Runs the writer until `killAfterMs` after its first acknowledged write (so that every trial
 * kills a writer in its steady state, however slow a busy machine makes the first write), kills
 * it with SIGKILL, returns its acknowledgements.
 */
function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<string[]> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const first = !out.includes('\nACK ');
      out += d.toString();
      if (first && out.includes('\nACK ')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') fail(new Error(`writer exited without being killed: ${err}`));
      // only complete lines were acknowledged
      const lines = out.split('\n');
      lines.pop();
      done(lines.filter((l) => l.startsWith('ACK ')));
    });
  });
}

describe('crash safety', () => {
  it(`survives kill -9 at random moments (${TRIALS} trials): fsck clean, reopens, every acknowledged write in history`, async () => {
    const dir = tempRepo({ 'README.md': 'crash test\n' });
    let acked = 0;
    let killedMidWrite = 0;
    let rng = 12345;
    // MINSTD: exact in double precision, so the kill times really vary
    const random = (): number => (rng = (rng * 48271) % 2147483647) / 2147483647;
    for (let trial = 0; trial < TRIALS; trial++) {
      const acks = await runAndKill(dir, trial + 1, 5 + Math.floor(random() * 200));
      acked += acks.length;
      if (existsSync(join(dir, '.git/flowreg.lock'))) killedMidWrite++;
      // reopening recovers an interrupted write (stale lock, journal) before anything else
      const store = await GitStore.open({ dir });
      expect(git(dir, ['fsck', '--strict', '--no-dangling', '--no-progress'])).toBe('');
      expect(git(dir, ['status', '--porcelain'])).toBe('');
      const history = new Set(git(dir, ['rev-list', 'HEAD']).split('\n'));
      for (const line of acks) {
        const commit = line.split(' ')[3] as string;
        if (commit !== 'null') expect(history.has(commit)).toBe(true);
      }
      // the last acknowledged write of each flow is what the working tree holds, unless a later
      // (unacknowledged) write of the same flow landed before the kill — a delete included
      const last = new Map<string, { label: string; commit: string }>();
      for (const line of acks) {
        const [, uid, label, commit] = line.split(' ') as [string, string, string, string];
        last.set(uid, { label, commit });
      }
      const subjects = git(dir, ['log', '--format=%H %s']).split('\n');
      for (const [uid, { label, commit }] of last) {
        const recs = store.filesOf(uid);
        if (label === '-') continue;
        if (recs.length === 0) {
          // deleted by a write after the acknowledged one: the newest commit of the flow is a delete
          const newest = subjects.find((l) => l.endsWith(`(${uid})`)) as string;
          expect(newest.split(' ')[1]).toBe('delete');
          expect(newest.startsWith(commit)).toBe(false);
          continue;
        }
        expect(recs).toHaveLength(1);
        const text = readFileSync(join(dir, (recs[0] as { path: string }).path), 'utf8');
        const served = /\nlabel: (\S+)\n/.exec(text)?.[1] ?? '';
        const [s, w] = served.slice(1).split('-w').map(Number) as [number, number];
        const [ls, lw] = label.slice(1).split('-w').map(Number) as [number, number];
        // same writer run: at least as new as the acknowledged one
        expect(s === ls ? w >= lw : s > ls).toBe(true);
      }
      await store.close();
    }
    expect(acked).toBeGreaterThanOrEqual(TRIALS);
    // the kills did land inside writes (a stale lock was left and recovered)
    expect(killedMidWrite).toBeGreaterThan(TRIALS / 4);
    console.log(`crash test: ${acked} acknowledged writes, ${killedMidWrite}/${TRIALS} kills inside a write`);
  }, 240_000);
});

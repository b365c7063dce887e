/**
 * A team adopts flowreg from nothing, in one test: `npm pack` of this checkout → the tarball
 * installed into an empty folder (no tsx, no TypeScript there; `validate` loads neither express nor
 * the git network code) → `flowreg init` → `flowreg import --from` a real DB-GPT 0.8.2 →
 * `flowreg validate` → `git commit` through the pre-commit framework's hook (the real `pre-commit`).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDbgpt, startDbgpt, type DbgptServer } from '../helpers/dbgpt/index.ts';
import { call, simpleChatBody } from '../helpers/dbgpt/requests.ts';
import { ensurePreCommit, snapshotRepo } from '../helpers/preCommit.ts';
import { startStubLlm, type StubLlm } from '../helpers/stubLlm.ts';
import { git, GIT_ENV, tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Records every module URL a process resolves (ESM), one a line, into $FLOWREG_TRACE_FILE. */
const TRACE_HOOK = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(s, c, n) { const r = await n(s, c); appendFileSync(process.env.FLOWREG_TRACE_FILE, r.url + '\\\\n'); return r; }
\`));
`;

describeDbgpt('from an empty folder to a commit through the hook', () => {
  let llm: StubLlm;
  let db: DbgptServer;
  const run = randomUUID().slice(0, 8);

  beforeAll(async () => {
    llm = await startStubLlm();
    db = await startDbgpt({ llmUrl: llm.url });
    for (const [i, name] of [`e2e_chat_${run}`, `e2e_other_${run}`].entries()) {
      const r = await call(db.url, 'POST', '/api/v2/serve/awel/flows', { body: simpleChatBody(`e2e-${i}-${run}`, name, { state: 'developing' }) });
      expect((r.json as { success: boolean }).success, r.text).toBe(true);
    }
  }, 300_000);

  afterAll(async () => {
    await db?.stop();
    await llm?.close();
  }, 60_000);

  it('npm pack → install → init → import --from → validate → commit through pre-commit', () => {
    const env: Record<string, string> = { ...GIT_ENV, npm_config_cache: join(homedir(), '.npm'), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const sh = (cwd: string, cmd: string, args: string[], extra: Record<string, string> = {}): SpawnSyncReturns<string> =>
      spawnSync(cmd, args, { cwd, env: { ...process.env, ...env, ...extra }, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 540_000 });
    const ok = (r: SpawnSyncReturns<string>, what: string): string => {
      expect(r.status, `${what}:\n${r.stdout}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };

    // 1. npm pack (prepare builds dist/), in a copy of this checkout as it is now: a clean tree
    // (no dist/), and nothing rebuilt under the feet of other tests running from the checkout. The
    // copy is also the repository the pre-commit hook comes from, tagged as a release.
    const hookRepo = snapshotRepo(ROOT, join(tempDir(), 'flowreg'), `v${VERSION}`, env);
    expect(existsSync(join(hookRepo, 'dist'))).toBe(false);
    symlinkSync(join(ROOT, 'node_modules'), join(hookRepo, 'node_modules')); // the dev dependencies, as npm ci would install them
    const packDir = tempDir('flowreg-pack-');
    const packOut = ok(sh(hookRepo, 'npm', ['pack', '--json', '--pack-destination', packDir]), 'npm pack');
    // the prepare script's own output (simple-git-hooks) comes before npm's JSON on stdout
    const packed = JSON.parse(packOut.slice(packOut.search(/^\[$/m))) as { filename: string; files: { path: string }[] }[];
    const paths = packed[0]!.files.map((f) => f.path);
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('schemas/flow.schema.json');
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false);
    const tarball = join(packDir, packed[0]!.filename);
    // the schema compiled at build time (ajv standalone) finds exactly what the sources' runtime compile finds
    const bin0 = join(hookRepo, 'bin/flowreg.js');
    const fixtures = ['test/fixtures/invalid', 'test/fixtures/valid', '--format', 'json'];
    const built = sh(hookRepo, process.execPath, [bin0, 'validate', ...fixtures]);
    const sources = sh(hookRepo, process.execPath, [bin0, 'validate', ...fixtures], { FLOWREG_FROM_SOURCE: '1' });
    expect(built.status).toBe(1);
    expect(JSON.parse(built.stdout).findings.length).toBeGreaterThan(30);
    expect(built.stdout).toBe(sources.stdout);

    // 2. into an empty folder
    const app = tempDir('flowreg-install-');
    ok(sh(app, 'npm', ['install', '--no-save', '--prefer-offline', tarball]), 'npm install <tarball>');
    const bin = join(app, 'node_modules/.bin/flowreg');
    expect(ok(sh(app, bin, ['--version']), 'flowreg --version')).toBe(`${VERSION}\n`);
    const installed = readdirSync(join(app, 'node_modules'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('typescript');

    // 3. init (the pre-commit hook from the copy above)
    const repo = join(app, 'team-flows');
    const init = ok(sh(app, bin, ['init', repo, '--hook-repo', hookRepo]), 'flowreg init');
    expect(init).toMatch(/created\s+team-flows\/\.pre-commit-config\.yaml/);
    env.PRE_COMMIT_HOME = tempDir('flowreg-pre-commit-home-');
    const python = ensurePreCommit();
    ok(sh(repo, python, ['-m', 'pre_commit', 'install']), 'pre-commit install');
    git(repo, ['add', '-A']);
    ok(sh(repo, 'git', ['commit', '-q', '-m', 'flowreg init']), 'commit of init (through the hook)');

    // 4. import from the real DB-GPT: one commit per flow
    const imported = ok(sh(repo, bin, ['import', '--from', db.url]), 'flowreg import --from');
    expect(imported).toMatch(/: 2 imported, 0 updated, 0 unchanged, 0 refused/);
    expect(git(repo, ['log', '--format=%s']).split('\n')).toEqual([
      `import flow e2e_other_${run} (e2e-1-${run}) from DB-GPT ${db.url}`,
      `import flow e2e_chat_${run} (e2e-0-${run}) from DB-GPT ${db.url}`,
      'flowreg init',
    ]);

    // 5. validate, from the installed package; it loads neither express nor the git network code
    const trace = join(tempDir(), 'trace.txt');
    const hook = join(tempDir(), 'trace.mjs');
    writeFileSync(hook, TRACE_HOOK);
    writeFileSync(trace, '');
    const validated = ok(sh(repo, process.execPath, ['--import', hook, bin, 'validate'], { FLOWREG_TRACE_FILE: trace }), 'flowreg validate');
    expect(validated).toContain('2 files checked: 0 errors, 0 warnings');
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toContain('/node_modules/flowreg/dist/cli/commands/validate.js');
    for (const heavy of ['/node_modules/express/', '/node_modules/isomorphic-git/', '/node_modules/pino/', '/node_modules/ajv/dist/2020.js', '/dist/store/', '/dist/server/', '/dist/daemon/']) {
      expect(loaded, heavy).not.toContain(heavy);
    }

    // 6. a change goes through the hook: a broken edit is blocked, a good one commits
    const file = join(repo, `flows/e2e_chat_${run}.yaml`);
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace(/\n {6}target: /, '\n      target: nowhere_'));
    git(repo, ['add', '-A']);
    const blocked = sh(repo, 'git', ['commit', '-m', 'broken edit']);
    expect(blocked.status, blocked.stdout + blocked.stderr).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain('EDGE_TARGET_MISSING');
    writeFileSync(file, good.replace(/^label: .*$/m, 'label: e2e chat, relabelled'));
    git(repo, ['add', '-A']);
    const committed = sh(repo, 'git', ['commit', '-m', 'relabel']);
    expect(committed.status, committed.stdout + committed.stderr).toBe(0);
    expect(committed.stdout + committed.stderr).toMatch(/flowreg \(validate flow files\)\.+Passed/);
    expect(git(repo, ['log', '-1', '--format=%s'])).toBe('relabel');
    expect(existsSync(join(repo, '.git/hooks/pre-commit'))).toBe(true);
  }, 900_000);
});

import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { configurationDoc } from '../../src/config/configurationDoc.ts';
import { defaultMaxConnections, descriptorLimit } from '../../src/config/descriptorLimit.ts';
import { loadServeConfig, type ConfigSources } from '../../src/config/loadServeConfig.ts';
import { parseApiKeys } from '../../src/config/parseApiKeys.ts';
import { SERVE_OPTIONS } from '../../src/config/serveOptions.ts';
import { isFlowregError } from '../../src/errors/index.ts';
import { inProcessRepo } from '../helpers/inProcessRepo.ts';
import { tempDir } from '../helpers/tmp.ts';

function sources(cwd: string, flags: ConfigSources['flags'] = {}, env: Record<string, string> = {}): ConfigSources {
  return { flags, env, cwd };
}

/** The USAGE message loadServeConfig throws for these sources. */
function usageError(src: ConfigSources): string {
  try {
    loadServeConfig(src);
  } catch (err) {
    if (isFlowregError(err, 'USAGE')) return err.message;
    throw err;
  }
  throw new Error('expected a USAGE error');
}

async function cli(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { cwd, env, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('loadServeConfig', () => {
  it('has DB-GPT-compatible defaults and serves the repository of the current directory', async () => {
    const repo = realpathSync(await inProcessRepo());
    mkdirSync(join(repo, 'sub', 'dir'), { recursive: true });
    const c = loadServeConfig(sources(join(repo, 'sub', 'dir')));
    expect(c).toEqual({
      config: null,
      repo,
      flowsDir: 'flows',
      templatesDir: null,
      committer: null,
      host: '127.0.0.1',
      port: 5670,
      bodyLimit: 10 * 1024 * 1024,
      drainTimeout: 10_000,
      maxConnections: defaultMaxConnections(),
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
      corsOrigins: [],
      runtimes: [],
      runtimeInterval: 15,
      runtimeTimeout: 10_000,
      drift: 'heal',
      runtimeOwner: null,
      apiKeys: [],
      logLevel: 'info',
      remote: null,
      remoteTokenFile: null,
      remoteAuth: null,
      branch: 'main',
      fetchInterval: 30,
      webhookSecret: null,
      writeMode: 'direct',
      watch: true,
    });
  });

  it('reads the sync options and refuses bad ones with a usage error', async () => {
    const repo = realpathSync(await inProcessRepo());
    const c = loadServeConfig({ ...sources(repo), env: { FLOWREG_REMOTE: 'http://127.0.0.1:9/flows.git', FLOWREG_FETCH_INTERVAL: '5', FLOWREG_WRITE_MODE: 'branch', FLOWREG_WATCH: 'off' } });
    expect([c.remote, c.fetchInterval, c.writeMode, c.watch, c.branch]).toEqual(['http://127.0.0.1:9/flows.git', 5, 'branch', false, 'main']);
    for (const [k, v] of [['FLOWREG_REMOTE', 'ssh://git@host/x.git'], ['FLOWREG_BRANCH', 'a..b'], ['FLOWREG_FETCH_INTERVAL', '-1'], ['FLOWREG_WRITE_MODE', 'pr'], ['FLOWREG_WATCH', 'maybe']] as const) {
      expect(() => loadServeConfig({ ...sources(repo), env: { [k]: v } })).toThrow(new RegExp(k));
    }
  });

  it('takes the remote token from FLOWREG_REMOTE_TOKEN or a token file, and credentials out of the URL', () => {
    const dir = realpathSync(tempDir());
    const url = 'https://git.example.com/team/flows.git';
    const withUser = (userinfo: string): string => url.replace('https://', `https://${userinfo}@`);
    expect(loadServeConfig(sources(dir, { remote: url }, { FLOWREG_REMOTE_TOKEN: 'tok-1234' }))).toMatchObject({ remote: url, remoteAuth: { username: 'x-access-token', password: 'tok-1234' } });
    expect(loadServeConfig(sources(dir, { remote: withUser('oauth2') }, { FLOWREG_REMOTE_TOKEN: 'tok-1234' }))).toMatchObject({ remote: url, remoteAuth: { username: 'oauth2', password: 'tok-1234' } });
    writeFileSync(join(dir, 'token'), 'tok-from-file\n');
    expect(loadServeConfig(sources(dir, { remote: url, remoteTokenFile: 'token' }))).toMatchObject({ remote: url, remoteTokenFile: join(dir, 'token'), remoteAuth: { username: 'x-access-token', password: 'tok-from-file' } });
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'conf.json'), JSON.stringify({ remote: url, remoteTokenFile: '../token' }));
    expect(loadServeConfig(sources(dir, { config: 'etc/conf.json' })).remoteAuth).toEqual({ username: 'x-access-token', password: 'tok-from-file' });
    // credentials written in the URL are taken out of it (shown, logged and stored without them)
    expect(loadServeConfig(sources(dir, { remote: withUser('alice:s3cret-pw') }))).toMatchObject({ remote: url, remoteAuth: { username: 'alice', password: 's3cret-pw' } });
    expect(loadServeConfig(sources(dir, { remote: withUser('tok-as-user') }))).toMatchObject({ remote: url, remoteAuth: { username: 'tok-as-user', password: '' } });
    expect(loadServeConfig(sources(dir, { remote: url }))).toMatchObject({ remote: url, remoteAuth: null });
    // refusals name the source and quote no secret
    writeFileSync(join(dir, 'empty'), ' \n');
    expect(usageError(sources(dir, { remote: url, remoteTokenFile: 'empty' }))).toBe(`--remote-token-file: the token file ${join(dir, 'empty')} is empty`);
    writeFileSync(join(dir, 'two'), 'alice\ntok-1234\n');
    expect(usageError(sources(dir, { remote: url, remoteTokenFile: 'two' }))).toBe(`--remote-token-file: the token file ${join(dir, 'two')}: the token holds whitespace, a line break or a control character; expected the token alone`);
    expect(usageError(sources(dir, { remoteTokenFile: 'missing' }))).toBe(`--remote-token-file: no such token file: ${join(dir, 'missing')}`);
    expect(usageError(sources(dir, { remote: url }, { FLOWREG_REMOTE_TOKEN: 'tok-1234', FLOWREG_REMOTE_TOKEN_FILE: 'token' }))).toBe("FLOWREG_REMOTE_TOKEN and FLOWREG_REMOTE_TOKEN_FILE both give the remote's token; give only one");
    const both = usageError(sources(dir, { remote: withUser('alice:s3cret-pw') }, { FLOWREG_REMOTE_TOKEN: 'tok-1234' }));
    expect(both).toBe('--remote: the URL holds a password and FLOWREG_REMOTE_TOKEN gives a token; give only one (the token keeps the secret out of the URL)');
    expect(usageError(sources(dir, { remote: 'ssh://git:s3cret-pw@git.example.com/x.git' }))).toBe('--remote: only http and https remotes are supported (isomorphic-git), got "ssh://git:***@git.example.com/x.git"');
  });

  it('takes --repo relative to the current directory, as given', () => {
    const dir = realpathSync(tempDir());
    expect(loadServeConfig(sources(dir, { repo: '.' })).repo).toBe(dir);
    expect(loadServeConfig(sources(dir, { repo: 'new/repo' })).repo).toBe(join(dir, 'new', 'repo'));
    writeFileSync(join(dir, 'file'), '');
    expect(usageError(sources(dir, { repo: 'file' }))).toBe(`--repo: ${join(dir, 'file')} is not a folder`);
  });

  it('takes each option from flag, else environment, else config file, else default', () => {
    const dir = realpathSync(tempDir());
    const file = join(dir, 'conf.json');
    writeFileSync(file, JSON.stringify({ port: 7001, host: '0.0.0.0', logLevel: 'debug', bodyLimit: '2mb' }));
    const env = { FLOWREG_CONFIG: file, FLOWREG_PORT: '7002', FLOWREG_HOST: '::1' };
    const c = loadServeConfig(sources(dir, { port: '7003', repo: dir }, env));
    expect(c.port).toBe(7003); // flag beats env and file
    expect(c.host).toBe('::1'); // env beats file
    expect(c.logLevel).toBe('debug'); // file beats default
    expect(c.bodyLimit).toBe(2 * 1024 * 1024);
    expect(c.drainTimeout).toBe(10_000); // default
    expect(c.config).toBe(file);
    expect(loadServeConfig(sources(dir, { repo: dir }, { ...env, FLOWREG_PORT: '' })).port).toBe(7001); // empty env = unset
  });

  it('reads flowreg.config.json from the repository root, resolving paths against the repository', async () => {
    const repo = realpathSync(await inProcessRepo());
    writeFileSync(join(repo, 'flowreg.config.json'), JSON.stringify({ flowsDir: 'config/flows/', templatesDir: 'tpl', apiKeys: { alice: 'k-a' } }));
    const c = loadServeConfig(sources(repo));
    expect(c.config).toBe(join(repo, 'flowreg.config.json'));
    expect(c.flowsDir).toBe('config/flows');
    expect(c.templatesDir).toBe(join(repo, 'tpl'));
    expect(c.apiKeys).toEqual([{ name: 'alice', key: 'k-a' }]);
    writeFileSync(join(repo, 'flowreg.config.json'), JSON.stringify({ repo: '/elsewhere' }));
    expect(usageError(sources(repo))).toMatch(/"repo" cannot be set in the repository's own flowreg.config.json/);
  });

  it('resolves a named config file\'s relative repo against the file\'s folder', () => {
    const dir = realpathSync(tempDir());
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'flowreg.json'), JSON.stringify({ repo: '../data' }));
    expect(loadServeConfig(sources(dir, { config: 'etc/flowreg.json' })).repo).toBe(join(dir, 'data'));
  });

  it('refuses bad values with a message naming the flag, variable or file key', () => {
    const dir = realpathSync(tempDir());
    expect(usageError(sources(dir, { port: 'abc' }))).toBe('--port: expected a port number (an integer from 0 to 65535), got "abc"');
    expect(usageError(sources(dir, {}, { FLOWREG_PORT: '70000' }))).toBe('FLOWREG_PORT: expected a port number (an integer from 0 to 65535), got "70000"');
    expect(usageError(sources(dir, { port: '-1' }))).toMatch(/^--port: expected a port number/);
    expect(usageError(sources(dir, { port: '80.5' }))).toMatch(/^--port: expected a port number/);
    expect(usageError(sources(dir, { flowsDir: '../x' }))).toMatch(/^--flows-dir: expected a folder inside the repository/);
    expect(usageError(sources(dir, { flowsDir: '/etc' }))).toMatch(/^--flows-dir: expected a folder inside the repository/);
    expect(usageError(sources(dir, { flowsDir: '.git/x' }))).toMatch(/^--flows-dir/);
    expect(usageError(sources(dir, { bodyLimit: '10 parsecs' }))).toMatch(/^--body-limit: expected a size/);
    expect(usageError(sources(dir, { bodyLimit: '12' }))).toMatch(/^--body-limit: expected a size from 1kb/);
    expect(usageError(sources(dir, { logLevel: 'loud' }))).toBe('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
    expect(usageError(sources(dir, { drainTimeout: 'soon' }))).toMatch(/^--drain-timeout: expected a duration/);
    expect(usageError(sources(dir, { committer: 'no email' }))).toMatch(/^--committer: expected "Name <email>"/);
    expect(usageError(sources(dir, { config: 'missing.json' }))).toBe(`--config: no such config file: ${join(dir, 'missing.json')}`);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ port: 5670, prot: 1 }));
    expect(usageError(sources(dir, { config: file }))).toMatch(/^config file .*bad\.json: unknown key prot \(known: repo, flowsDir/);
    writeFileSync(file, '{"port": ');
    expect(usageError(sources(dir, { config: file }))).toMatch(/^config file .*bad\.json: /);
    writeFileSync(file, JSON.stringify({ port: 'high' }));
    expect(usageError(sources(dir, { config: file }))).toBe(`config file ${file}: port: expected a port number (an integer from 0 to 65535), got "high"`);
  });

  it('parses sizes, durations and identities', () => {
    const dir = tempDir();
    const c = loadServeConfig(sources(dir, { bodyLimit: '512kb', drainTimeout: '1.5s', committer: 'Flow Bot <bot@example.com>' }));
    expect(c.bodyLimit).toBe(512 * 1024);
    expect(c.drainTimeout).toBe(1500);
    expect(c.committer).toEqual({ name: 'Flow Bot', email: 'bot@example.com' });
    expect(loadServeConfig(sources(dir, { bodyLimit: '1048576', drainTimeout: '250' }))).toMatchObject({ bodyLimit: 1048576, drainTimeout: 250 });
  });

  it('reads the connection cap and the HTTP timeouts, refusing a headers timeout longer than the request timeout', () => {
    const dir = realpathSync(tempDir());
    expect(loadServeConfig(sources(dir, { maxConnections: '200', headersTimeout: '2s', requestTimeout: '1m', keepAliveTimeout: '500ms' }))).toMatchObject({
      maxConnections: 200,
      headersTimeout: 2000,
      requestTimeout: 60_000,
      keepAliveTimeout: 500,
    });
    expect(loadServeConfig(sources(dir, {}, { FLOWREG_MAX_CONNECTIONS: 'auto' })).maxConnections).toBe(defaultMaxConnections());
    expect(usageError(sources(dir, { maxConnections: '0' }))).toMatch(/^--max-connections: expected a number of connections or auto/);
    expect(usageError(sources(dir, { keepAliveTimeout: '0' }))).toBe('--keep-alive-timeout: expected a duration of at least 100ms such as 10s, got "0"');
    expect(usageError(sources(dir, {}, { FLOWREG_HEADERS_TIMEOUT: '10m' }))).toBe(
      'FLOWREG_HEADERS_TIMEOUT: the headers timeout (600000 ms) cannot be longer than the request timeout (300000 ms, --request-timeout)',
    );
  });

  it('reads the CORS origins: exact origins normalised, or *, from a flag, the environment or a config file list', () => {
    const dir = realpathSync(tempDir());
    expect(loadServeConfig(sources(dir, { corsOrigins: 'http://localhost:3000, https://UI.example.com/,http://127.0.0.1:80' })).corsOrigins).toEqual([
      'http://localhost:3000',
      'https://ui.example.com',
      'http://127.0.0.1',
    ]);
    expect(loadServeConfig(sources(dir, {}, { FLOWREG_CORS_ORIGINS: 'http://a.test,*' })).corsOrigins).toEqual(['*']);
    const file = join(dir, 'cors.json');
    writeFileSync(file, JSON.stringify({ corsOrigins: ['http://localhost:5173'] }));
    expect(loadServeConfig(sources(dir, { config: file })).corsOrigins).toEqual(['http://localhost:5173']);
    for (const bad of ['localhost:3000', 'http://a.test/ui', 'ftp://a.test', 'http://u:p@a.test', ',']) {
      expect(usageError(sources(dir, { corsOrigins: bad }))).toMatch(/^--cors-origin: expected origins such as http:\/\/localhost:3000 \(scheme, host and port, no path\), comma-separated, or \*; got /);
    }
  });

  it('derives the default connection cap from the descriptor limit (ulimit -n), keeping descriptors for the repository', () => {
    const limits = (open: string): string => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${open}                524288               files\n`;
    expect(descriptorLimit(() => limits('150'))).toBe(150);
    expect(descriptorLimit(() => limits('unlimited'))).toBeNull();
    expect(descriptorLimit(() => {
      throw new Error('ENOENT'); // not Linux
    })).toBeNull();
    expect(defaultMaxConnections(150)).toBe(75); // half the limit under 256
    expect(defaultMaxConnections(1024)).toBe(896); // 128 kept
    expect(defaultMaxConnections(65_536)).toBe(1024); // never more than 1024
    expect(defaultMaxConnections(null)).toBe(1024);
    expect(defaultMaxConnections(1)).toBe(1);
  });
});

describe('parseApiKeys', () => {
  it('reads DB-GPT comma lists, named entries, lists and objects', () => {
    expect(parseApiKeys(' k1 , k2,', 'x')).toEqual([
      { name: null, key: 'k1' },
      { name: null, key: 'k2' },
    ]);
    expect(parseApiKeys('alice=k1,bob=k2,k3', 'x')).toEqual([
      { name: 'alice', key: 'k1' },
      { name: 'bob', key: 'k2' },
      { name: null, key: 'k3' },
    ]);
    // base64 padding is not a name separator
    expect(parseApiKeys('c2VjcmV0==,YWI=', 'x')).toEqual([
      { name: null, key: 'c2VjcmV0==' },
      { name: null, key: 'YWI=' },
    ]);
    expect(parseApiKeys(['ci=abc', 'plain'], 'x')).toEqual([
      { name: 'ci', key: 'abc' },
      { name: null, key: 'plain' },
    ]);
    expect(parseApiKeys({ alice: 'k1' }, 'x')).toEqual([{ name: 'alice', key: 'k1' }]);
  });

  it('refuses a list without any key instead of turning authentication off', () => {
    for (const raw of ['', ',', ' ', ' , ,', [], {}]) {
      expect(() => parseApiKeys(raw, '--api-keys')).toThrow(/^--api-keys: the list of API keys is empty, which would turn authentication off/);
    }
  });

  it('refuses duplicate keys, bad names and wrong types', () => {
    expect(() => parseApiKeys('k1,k1', '--api-keys')).toThrow('--api-keys: the same API key is given twice');
    expect(() => parseApiKeys('bad name=k1', '--api-keys')).toThrow(/key name "bad name" may only hold/);
    expect(() => parseApiKeys({ alice: 3 }, 'apiKeys')).toThrow('apiKeys.alice: expected a non-empty string key');
    expect(() => parseApiKeys(42, 'apiKeys')).toThrow(/apiKeys: expected/);
  });
});

describe('flowreg serve --help and docs/configuration.md', () => {
  it('lists every option with its environment variable and default', async () => {
    const run = await cli(['serve', '--help'], tempDir());
    expect(run.code).toBe(0);
    const help = run.out.replace(/\s+/g, ' ');
    for (const o of SERVE_OPTIONS) {
      expect(help).toContain(o.flag);
      expect(help).toContain(`env ${o.env}; default: ${o.defaultText}]`);
    }
  });

  it('refuses an empty API key list from a flag, the environment or the config file, naming it, with exit code 2', async () => {
    const dir = realpathSync(tempDir());
    const empty = /the list of API keys is empty, which would turn authentication off/;
    for (const keys of [',', ' ', ', ,']) {
      expect(usageError(sources(dir, { apiKeys: keys }))).toMatch(new RegExp(`^--api-keys: ${empty.source}`));
      expect(usageError(sources(dir, {}, { FLOWREG_API_KEYS: keys }))).toMatch(new RegExp(`^FLOWREG_API_KEYS: ${empty.source}`));
    }
    const file = join(dir, 'keys.json');
    for (const apiKeys of [[], {}, ',', '']) {
      writeFileSync(file, JSON.stringify({ apiKeys }));
      expect(usageError(sources(dir, { config: file }))).toBe(`config file ${file}: apiKeys: the list of API keys is empty, which would turn authentication off; give at least one key, or leave the option out to run without authentication`);
    }
    // an empty variable counts as unset, and no keys at all stays valid: no authentication
    expect(loadServeConfig(sources(dir, {}, { FLOWREG_API_KEYS: '' })).apiKeys).toEqual([]);
    expect(loadServeConfig(sources(dir)).apiKeys).toEqual([]);
    for (const [argv, env] of [[['serve', '--api-keys', ','], {}], [['serve', '--api-keys', ' '], {}], [['serve'], { FLOWREG_API_KEYS: ',' }], [['serve', '--config', file], {}]] as const) {
      const run = await cli([...argv], dir, { ...env });
      expect(run.code).toBe(2);
      expect(run.err).toMatch(empty);
    }
  });

  it('exits 2 with the message on a bad option', async () => {
    const run = await cli(['serve', '--port', 'abc'], tempDir());
    expect(run.code).toBe(2);
    expect(run.err).toBe('flowreg: --port: expected a port number (an integer from 0 to 65535), got "abc"\n');
    const env = await cli(['serve'], tempDir(), { FLOWREG_LOG_LEVEL: 'chatty' });
    expect(env.code).toBe(2);
    expect(env.err).toContain('FLOWREG_LOG_LEVEL: expected one of');
  });

  it('has docs/configuration.md hold the table generated from the option table', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
    // On failure, replace the block between the markers with configurationDoc()'s output.
    expect(doc).toContain(configurationDoc());
    for (const o of SERVE_OPTIONS) expect(doc).toContain(`\`${o.env}\``);
  });

  it('gives every option a distinct flag, variable and key', () => {
    for (const field of ['flag', 'env', 'key'] as const) {
      const values = SERVE_OPTIONS.map((o) => o[field]);
      expect(new Set(values).size).toBe(values.length);
    }
    for (const o of SERVE_OPTIONS) expect(o.env).toMatch(/^FLOWREG_[A-Z_]+$/);
  });
});

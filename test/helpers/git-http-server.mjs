// A smart-HTTP git server for tests: native `git http-backend` behind node:http, on 127.0.0.1.
// Runs as its own process so that tests may call git synchronously against it.
// Usage: node git-http-server.mjs <root of bare repositories> [token]; prints "PORT <n>" when listening.
// Control: POST /__control/down, POST /__control/up, GET /__control/stats.
// Under /auth/ (`/auth/x.git` is the repository x.git) every request needs HTTP Basic auth whose
// password, or user name when the password is empty, is the token; else 401 with a challenge.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const root = process.argv[2];
const token = process.argv[3] ?? 'test-remote-token';
// lastUser: the user name of the last request authenticated under /auth/
const state = { requests: 0, down: false, unauthorized: 0, lastUser: null };

/** True when the Basic credentials of `header` carry the token. */
function authorized(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  const [user, password] = colon < 0 ? [plain, ''] : [plain.slice(0, colon), plain.slice(colon + 1)];
  if ((password === '' ? user : password) !== token) return false;
  state.lastUser = user;
  return true;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/__control/')) {
    if (url.pathname === '/__control/down') state.down = true;
    if (url.pathname === '/__control/up') state.down = false;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
    return;
  }
  state.requests++;
  if (state.down) {
    res.writeHead(503).end('remote down');
    return;
  }
  let path = url.pathname;
  if (path.startsWith('/auth/')) {
    if (!authorized(req.headers.authorization)) {
      state.unauthorized++;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end('authentication required');
      return;
    }
    path = path.slice('/auth'.length);
  }
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: root,
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(path),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: req.headers['content-length'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      REMOTE_USER: 'test',
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on('data', (chunk) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headerDone = true;
    let status = 200;
    for (const line of head.toString('latin1', 0, end).split('\r\n')) {
      const at = line.indexOf(':');
      const k = line.slice(0, at).trim();
      const v = line.slice(at + 1).trim();
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else res.setHeader(k, v);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.stdout.on('end', () => {
    if (!headerDone) res.writeHead(500);
    res.end();
  });
  child.on('error', () => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

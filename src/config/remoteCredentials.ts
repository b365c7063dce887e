import { readFileSync } from 'node:fs';
import { FlowregError } from '../errors/index.ts';
import { DEFAULT_TOKEN_USER, REMOTE_TOKEN_ENV, type ServeConfig } from './serveOptions.ts';

/** Where each input came from, for messages (`--remote`, `FLOWREG_REMOTE_TOKEN_FILE`, `config file …: remote`). */
export interface CredentialSources {
  /** The remote's URL as given (it may hold `user:password@`). */
  remote: string | null;
  remoteWhere: string;
  /** FLOWREG_REMOTE_TOKEN's value (undefined: unset or empty). */
  token: string | undefined;
  /** The token file's absolute path (null: none). */
  tokenFile: string | null;
  tokenFileWhere: string;
}

function usage(text: string): FlowregError {
  return new FlowregError('USAGE', text);
}

/** A token fit for an HTTP header: no whitespace or control characters inside. */
function checkToken(token: string, where: string): string {
  if (token === '') throw usage(`${where}: the token is empty`);
  if (/[\s\u0000-\u001f\u007f]/.test(token)) throw usage(`${where}: the token holds whitespace, a line break or a control character; expected the token alone`);
  return token;
}

function readToken(path: string, where: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlowregError('USAGE', `${where}: cannot read the token file ${path}: ${(err as { code?: string }).code ?? String(err)}`, { path }, { cause: err });
  }
  const token = text.trim();
  if (token === '') throw usage(`${where}: the token file ${path} is empty`);
  return checkToken(token, `${where}: the token file ${path}`);
}

/**
 * The remote's URL without credentials and the HTTP Basic credentials to send: a token from
 * FLOWREG_REMOTE_TOKEN or the token file (with the URL's user name, else `x-access-token`), or the
 * URL's own `user:password@`. Giving a token twice, or a token and a password in the URL, is a
 * USAGE error; no message quotes a token or a password.
 */
export function remoteCredentials(src: CredentialSources): Pick<ServeConfig, 'remote' | 'remoteAuth'> {
  if (src.token !== undefined && src.tokenFile !== null) {
    throw usage(`${REMOTE_TOKEN_ENV} and ${src.tokenFileWhere} both give the remote's token; give only one`);
  }
  const token = src.token !== undefined ? checkToken(src.token.trim(), REMOTE_TOKEN_ENV) : src.tokenFile !== null ? readToken(src.tokenFile, src.tokenFileWhere) : null;
  if (src.remote === null) return { remote: null, remoteAuth: null };
  const url = new URL(src.remote);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (username === '' && password === '') return { remote: src.remote, remoteAuth: token === null ? null : { username: DEFAULT_TOKEN_USER, password: token } };
  url.username = '';
  url.password = '';
  if (token !== null && password !== '') {
    throw usage(`${src.remoteWhere}: the URL holds a password and ${src.token !== undefined ? REMOTE_TOKEN_ENV : src.tokenFileWhere} gives a token; give only one (the token keeps the secret out of the URL)`);
  }
  return { remote: url.href, remoteAuth: { username, password: token ?? password } };
}

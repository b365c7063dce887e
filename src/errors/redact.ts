/** The user-info part of URLs in free text: `scheme://user:password@` or `scheme://token@`. */
const USERINFO_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]+)@/gi;

/**
 * `text` with the credentials of every URL in it replaced by `***` (`https://user:***@host/…`,
 * `https://***@host/…` when the user part alone is given, as a token often is), and each of
 * `secrets` (of at least 4 characters) replaced wherever it appears. For messages, logs and status
 * answers that may quote a remote's URL or an error about it: credentials never leave in them.
 */
export function redactCredentials(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERINFO_RE, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return `${scheme}${colon >= 0 ? `${info.slice(0, colon)}:***` : '***'}@`;
  });
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join('***');
  }
  return out;
}

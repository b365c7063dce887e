import type { Caller } from '../service/FlowServiceApi.ts';

/** The author of writes made without a named key or a `user_name`. */
export const DEFAULT_AUTHOR = 'flowreg-api';

/** A name git can carry in a signature: no control characters, `<` or `>`, at most 64 characters. */
function cleanName(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f<>]/g, '').trim().slice(0, 64).trim();
}

/**
 * Who writes, for the commit author (docs/api.md): the name of the API key used when it has one,
 * else the body's `user_name`, else `flowreg-api`; the email is `<name>@flowreg` with anything
 * but letters, digits, `.`, `_` and `-` replaced by `_`.
 */
export function callerOf(keyName: string | null | undefined, body: unknown): Caller {
  let name = keyName ?? '';
  if (name === '' && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const user = (body as { user_name?: unknown }).user_name;
    if (typeof user === 'string') name = cleanName(user);
  }
  if (name === '') name = DEFAULT_AUTHOR;
  return { name, email: `${name.replace(/[^A-Za-z0-9._-]/g, '_')}@flowreg` };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config/parseApiKeys.ts';

/** Who a valid key belongs to: its name (null for an unnamed DB-GPT style key). */
export interface KeyHolder {
  name: string | null;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The configured API keys and the Bearer check. Keys are kept as SHA-256 digests and compared
 * with timingSafeEqual over those fixed-length digests, visiting every key whatever matched, so
 * the time taken tells nothing about a key's content or position.
 */
export class ApiKeys {
  private readonly keys: { name: string | null; digest: Buffer }[];

  constructor(keys: ApiKey[]) {
    this.keys = keys.map((k) => ({ name: k.name, digest: digest(k.key) }));
  }

  /** True when keys are configured, so every route needs one. */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /**
   * The holder of the key in an `Authorization: Bearer <key>` header, or null when the header is
   * missing, not Bearer, or names no configured key. The scheme is case-insensitive and the key
   * trimmed, as DB-GPT's HTTPBearer check does.
   */
  check(authorization: string | undefined): KeyHolder | null {
    if (authorization === undefined) return null;
    const m = /^\s*bearer\s+(.+?)\s*$/i.exec(authorization);
    if (!m) return null;
    const given = digest(m[1] as string);
    let found: KeyHolder | null = null;
    for (const k of this.keys) {
      if (timingSafeEqual(given, k.digest) && found === null) found = { name: k.name };
    }
    return found;
  }
}

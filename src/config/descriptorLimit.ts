import { readFileSync } from 'node:fs';

/** The cap on connections when the descriptor limit cannot be read, and the most `auto` ever gives. */
export const MAX_CONNECTIONS_CAP = 1024;

/** Descriptors `auto` leaves to the daemon itself when the limit allows: repository files, packs, locks, the watcher, git's pipes, the remote's sockets. */
const RESERVED = 128;

/**
 * The soft limit on open file descriptors of this process (`ulimit -n`), read from
 * /proc/self/limits (Linux; one small read at start, no child process); null where that file is
 * missing or says "unlimited". Node has no getrlimit.
 */
export function descriptorLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : null;
}

/**
 * The default cap on simultaneous connections: what the descriptor limit leaves once the daemon's
 * own files are set aside (128 of them, or half the limit when it is under 256), and never more
 * than 1024; 1024 when the limit cannot be read. A connection is one descriptor; when they run
 * out, opening .git/HEAD or a flow file fails (EMFILE), so connections must give way first.
 */
export function defaultMaxConnections(limit: number | null = descriptorLimit()): number {
  if (limit === null) return MAX_CONNECTIONS_CAP;
  return Math.max(1, Math.min(MAX_CONNECTIONS_CAP, Math.max(Math.floor(limit / 2), limit - RESERVED)));
}

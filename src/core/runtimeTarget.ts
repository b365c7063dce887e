/** One DB-GPT webserver flowreg deploys into and forwards chat to (docs/runtimes.md). */
export interface RuntimeTarget {
  /** Short name for status and logs: `rt1`, `rt2`… in configuration order, or the name given. */
  name: string;
  /** Base URL of the DB-GPT webserver, without a trailing slash (e.g. `http://127.0.0.1:5670`). */
  url: string;
  /** DB-GPT API key sent as `Authorization: Bearer <key>`; null: none. Never logged or echoed. */
  apiKey: string | null;
}

/** What the reconcile does with drift: set it back (heal), only report it, or heal and also delete flows flowreg did not put there (prune). */
export type DriftMode = 'heal' | 'report' | 'prune';

import { laxBool } from '../core/flowSchema.ts';
import { FlowregError } from '../errors/index.ts';

function invalid(name: string, message: string): FlowregError {
  return new FlowregError('INVALID_INPUT', message, { loc: `query.${name}` });
}

/**
 * Typed access to a request's query parameters (express's simple parser: a string, or an array
 * when a name is repeated). Every refusal is an INVALID_INPUT error whose `loc` names the
 * parameter, so the answer reads `query.page:...;` as DB-GPT's validation errors do.
 */
export class QueryReader {
  constructor(private readonly query: Record<string, unknown>) {}

  /** The parameter's text, undefined when absent. */
  string(name: string): string | undefined {
    const v = this.query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalid(name, `expected one value, got ${Array.isArray(v) ? `${v.length} values` : 'a structured value'}`);
    return v;
  }

  /** An integer parameter in [min, max], `dflt` when absent. */
  int(name: string, dflt: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    const v = this.string(name);
    if (v === undefined) return dflt;
    const n = /^\s*[+-]?\d{1,15}\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) throw invalid(name, `expected an integer, got ${JSON.stringify(v)}`);
    if (n < min || n > max) throw invalid(name, max === Number.MAX_SAFE_INTEGER ? `expected an integer of at least ${min}, got ${n}` : `expected an integer from ${min} to ${max}, got ${n}`);
    return n;
  }

  /** A boolean parameter read as pydantic reads one (true/false, 1/0, yes/no, on/off), `dflt` when absent. */
  bool(name: string, dflt: boolean): boolean {
    const v = this.string(name);
    if (v === undefined) return dflt;
    const b = laxBool(v.trim());
    if (b === undefined) throw invalid(name, `expected a boolean (true or false), got ${JSON.stringify(v)}`);
    return b;
  }

  /** One of `values`, `dflt` when absent. */
  choice<T extends string>(name: string, values: readonly T[], dflt: T): T {
    const v = this.string(name);
    if (v === undefined) return dflt;
    const found = values.find((x) => x === v);
    if (found === undefined) throw invalid(name, `expected one of ${values.map((x) => `"${x}"`).join(', ')}, got ${JSON.stringify(v)}`);
    return found;
  }

  /**
   * `page` (from 1) and `page_size` (from 1, default 20), DB-GPT's pagination parameters. As in
   * DB-GPT, page_size has no upper bound (its app editor asks for 10000): a page holds at most the
   * items there are, and the list is built per item, never per page_size.
   */
  page(): { page: number; pageSize: number } {
    return { page: this.int('page', 1, 1), pageSize: this.int('page_size', 20, 1) };
  }
}

import type { Request } from 'express';
import { FlowregError } from '../errors/index.ts';

/** Deeper bodies are refused: flows nest about a dozen levels, and recursion further on must stay safe. */
export const MAX_BODY_DEPTH = 64;

/** True for a Content-Type the JSON parser reads: none (as FastAPI), `application/json` or `application/*+json`. */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType === undefined || /^\s*application\/(?:json|[^\s;/]+\+json)\s*(?:;|$)/i.test(contentType);
}

/**
 * Fails when the raw JSON text nests arrays and objects deeper than MAX_BODY_DEPTH, before
 * JSON.parse sees it: parsing a 10 MB `[[[[…` takes seconds, and every later step that recurses
 * (validation, canonical form, YAML) would overflow the stack. Used as the JSON parser's `verify`.
 */
export function checkJsonDepth(raw: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as number;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_BODY_DEPTH) {
        throw new FlowregError('INVALID_INPUT', `the body nests more than ${MAX_BODY_DEPTH} levels of objects and arrays; a flow needs far fewer`, { loc: 'body' });
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * The parsed JSON object body of a request. No body, a non-JSON Content-Type or a body that is
 * not an object is an INVALID_INPUT error at `body`.
 */
export function jsonBody(req: Request, what: string): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) {
    const type = req.headers['content-type'];
    const why = isJsonType(type) ? 'the request has no body' : `the Content-Type is ${JSON.stringify(type)}; send Content-Type: application/json`;
    throw new FlowregError('INVALID_INPUT', `expected ${what} as a JSON object, but ${why}`, { loc: 'body' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FlowregError('INVALID_INPUT', `expected ${what} as a JSON object, got ${kind(body)}`, { loc: 'body' });
  }
  return body as Record<string, unknown>;
}

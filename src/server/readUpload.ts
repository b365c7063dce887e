import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { FlowregError } from '../errors/index.ts';

/** A multipart form: the first file of field `fileField` and the text fields. */
export interface Upload {
  file: { filename: string; data: Buffer } | null;
  fields: Record<string, string>;
}

/** How many parts of a multipart upload are read; an upload with more is INVALID_INPUT naming the limit. */
export const UPLOAD_LIMITS = { parts: 100, fields: 50, files: 10 } as const;

/**
 * Reads a `multipart/form-data` request with busboy, keeping the first file of `fileField` in
 * memory (at most `limit` bytes, else PAYLOAD_TOO_LARGE) and the text fields. A request that is not
 * multipart, breaks off, or has more parts, fields or files than UPLOAD_LIMITS is INVALID_INPUT. The whole body is read before answering, so the
 * client is never cut off mid-upload.
 */
export function readUpload(req: IncomingMessage, fileField: string, limit: number): Promise<Upload> {
  return new Promise<Upload>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: limit, fieldSize: 64 * 1024, fields: UPLOAD_LIMITS.fields, files: UPLOAD_LIMITS.files, parts: UPLOAD_LIMITS.parts }, defParamCharset: 'utf8' });
    } catch (err) {
      const type = req.headers['content-type'] ?? 'none';
      reject(new FlowregError('INVALID_INPUT', `expected a multipart/form-data upload with a "${fileField}" file, got content type ${JSON.stringify(type)}`, { loc: 'body' }, { cause: err }));
      return;
    }
    const out: Upload = { file: null, fields: {} };
    let tooLarge = false;
    // busboy skips every part past a limit without an error: the upload is refused at the end,
    // saying which limit it broke, instead of answering as if the skipped file were missing
    // (the parts limit, when reached, is named over the fields or files limit reached before it)
    let overLimit: string | null = null;
    const over = (what: string, first: boolean) => () => {
      if (overLimit !== null && !first) return;
      overLimit = `the multipart body has ${what}; at most ${UPLOAD_LIMITS.parts} parts (${UPLOAD_LIMITS.fields} text fields, ${UPLOAD_LIMITS.files} files) are read. Send the "${fileField}" file and only the form fields the request needs`;
    };
    parser.on('partsLimit', over(`more than ${UPLOAD_LIMITS.parts} parts`, true));
    parser.on('fieldsLimit', over(`more than ${UPLOAD_LIMITS.fields} text fields`, false));
    parser.on('filesLimit', over(`more than ${UPLOAD_LIMITS.files} files`, false));
    parser.on('file', (name, stream, info) => {
      // A body that ends mid-file fails the file stream too; the parser's own error answers it,
      // but an unhandled stream error would take the process down.
      stream.on('error', () => undefined);
      if (name !== fileField || out.file !== null) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.on('end', () => {
        out.file = { filename: info.filename ?? '', data: Buffer.concat(chunks) };
      });
    });
    parser.on('field', (name, value) => {
      if (!Object.hasOwn(out.fields, name)) out.fields[name] = value;
    });
    parser.on('error', (err: unknown) => {
      req.unpipe(parser);
      req.resume();
      reject(new FlowregError('INVALID_INPUT', `the multipart body is malformed: ${err instanceof Error ? err.message : String(err)}`, { loc: 'body' }, { cause: err }));
    });
    parser.on('close', () => {
      if (tooLarge) reject(new FlowregError('PAYLOAD_TOO_LARGE', `the uploaded file is larger than the limit of ${limit} bytes`));
      else if (overLimit !== null) reject(new FlowregError('INVALID_INPUT', overLimit, { loc: 'body' }));
      else resolve(out);
    });
    req.on('aborted', () => reject(new FlowregError('INVALID_INPUT', 'the upload was aborted by the client', { loc: 'body' })));
    req.pipe(parser);
  });
}

import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { FlowregError } from '../errors/index.ts';

/** A multipart form: the first file of field `fileField` and the text fields. */
export interface Upload {
  file: { filename: string; data: Buffer } | null;
  fields: Record<string, string>;
}

/**
 * Reads a `multipart/form-data` request with busboy, keeping the first file of `fileField` in
 * memory (at most `limit` bytes, else PAYLOAD_TOO_LARGE) and the text fields. A request that is not
 * multipart, or breaks off, is INVALID_INPUT. The whole body is read before answering, so the
 * client is never cut off mid-upload.
 */
export function readUpload(req: IncomingMessage, fileField: string, limit: number): Promise<Upload> {
  return new Promise<Upload>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: limit, fieldSize: 64 * 1024, fields: 50, files: 10, parts: 100 }, defParamCharset: 'utf8' });
    } catch (err) {
      const type = req.headers['content-type'] ?? 'none';
      reject(new FlowregError('INVALID_INPUT', `expected a multipart/form-data upload with a "${fileField}" file, got content type ${JSON.stringify(type)}`, { loc: 'body' }, { cause: err }));
      return;
    }
    const out: Upload = { file: null, fields: {} };
    let tooLarge = false;
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
      else resolve(out);
    });
    req.on('aborted', () => reject(new FlowregError('INVALID_INPUT', 'the upload was aborted by the client', { loc: 'body' })));
    req.pipe(parser);
  });
}

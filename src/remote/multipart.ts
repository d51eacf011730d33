/**
 * The publish body exactly as Go's `multipart.Writer` + `CreateFormFile("files", role)` writes it
 * (N:server/handlers/default.go, compare test/fixtures/vectors/wire/*POST*.request):
 *   --B\r\nContent-Disposition: form-data; name="files"; filename="<role>"\r\n
 *   Content-Type: application/octet-stream\r\n\r\n<bytes>\r\n--B ... \r\n--B--\r\n
 * The boundary is 30 random bytes in hex (60 chars), like Go's randomBoundary.
 */
import { randomBytes } from 'node:crypto';

export interface MultipartBody {
  contentType: string;
  /** the body in pieces, sent in order: the files' bytes are not copied into one buffer */
  body: readonly Buffer[];
}

/** Go's escapeQuotes: backslash-escape `\` and `"` in the filename. */
function escapeQuotes(s: string): string {
  return s.replace(/[\\"]/g, (c) => '\\' + c);
}

export function buildMultipart(
  parts: Array<{ role: string; bytes: Buffer }>,
  boundary = randomBytes(30).toString('hex'),
): MultipartBody {
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => {
    const head =
      (i === 0 ? '' : '\r\n') +
      `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="files"; filename="${escapeQuotes(p.role)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n';
    chunks.push(Buffer.from(head, 'utf8'), p.bytes);
  });
  chunks.push(Buffer.from(`${parts.length === 0 ? '' : '\r\n'}--${boundary}--\r\n`, 'utf8'));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: chunks };
}

/** RFC 6901 JSON Pointers and the RFC 6902 JSONPatch the mutating webhook returns. Pure. */

/** One reference token: `~` → `~0` first, then `/` → `~1` (RFC 6901 §3). */
export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The pointer to `tokens` from the document root, e.g. ['spec','containers',0,'image'] → /spec/containers/0/image. */
export function jsonPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${escapePointerToken(t)}`).join('');
}

/**
 * The operations the webhook emits. `test` guards each `replace`: if another mutating webhook has
 * changed the image since this one looked, the API server rejects the patch instead of overwriting it.
 */
export type PatchOperation = { op: 'test' | 'replace'; path: string; value: string };

/** A `replace` of the string at `path`, guarded by a `test` of its current value. */
export function replaceString(path: string, from: string, to: string): PatchOperation[] {
  return [
    { op: 'test', path, value: from },
    { op: 'replace', path, value: to },
  ];
}

/** `AdmissionResponse.patch`: base64 of the JSON array. */
export function encodePatch(ops: readonly PatchOperation[]): string {
  return Buffer.from(JSON.stringify(ops), 'utf8').toString('base64');
}

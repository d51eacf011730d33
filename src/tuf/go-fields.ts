/**
 * Go's field-name folding (N:tuf/data/types.go decodes with encoding/json): the shape of each
 * metadata type, and the refusal of keys Go would read as another field.
 */
import type { JsonObject, JsonValue } from './canonical-json.js';
import { Checker, eachEntry, expectedType } from './structure.js';

/**
 * Go's encoding/json matches struct fields case-insensitively (Unicode simple folding, so `ſ` is `s`
 * and `K` is `k`), the last match winning; JSON.parse is exact. A file holding `"Version"` or
 * `"Targets"` next to the real field would mean one thing to notary/docker and another to us under
 * the same signature, so such keys are refused wherever Go decodes into a struct. Map keys (target
 * names, key IDs, meta roles) are data and stay case-sensitive.
 */
interface Shape {
  /** a Go struct: its JSON field names and their shapes */
  fields?: Record<string, Shape>;
  /** a Go map: the shape of its values */
  values?: Shape;
  /** a Go slice: the shape of its items */
  items?: Shape;
}

const LEAF: Shape = {};
const KEY_SHAPE: Shape = { fields: { keytype: LEAF, keyval: { fields: { private: LEAF, public: LEAF } } } };
const FILE_META_SHAPE: Shape = { fields: { custom: LEAF, hashes: LEAF, length: LEAF } };
const COMMON_FIELDS: Record<string, Shape> = { _type: LEAF, expires: LEAF, version: LEAF };
const SIGNED_SHAPE: Record<string, Shape> = {
  Root: {
    fields: {
      ...COMMON_FIELDS,
      consistent_snapshot: LEAF,
      keys: { values: KEY_SHAPE },
      roles: { values: { fields: { keyids: LEAF, threshold: LEAF } } },
    },
  },
  Targets: {
    fields: {
      ...COMMON_FIELDS,
      targets: { values: FILE_META_SHAPE },
      delegations: {
        fields: {
          keys: { values: KEY_SHAPE },
          roles: { items: { fields: { keyids: LEAF, name: LEAF, paths: LEAF, threshold: LEAF } } },
        },
      },
    },
  },
  Snapshot: { fields: { ...COMMON_FIELDS, meta: { values: FILE_META_SHAPE } } },
  Timestamp: { fields: { ...COMMON_FIELDS, meta: { values: FILE_META_SHAPE } } },
};

function goFold(s: string): string {
  return s.toLowerCase().replace(/\u017f/g, 's');
}

/** Each struct shape's field names by their Go folding, made once per shape. */
const FOLDED = new WeakMap<Record<string, Shape>, Map<string, string>>();
function foldedFields(fields: Record<string, Shape>): Map<string, string> {
  let m = FOLDED.get(fields);
  if (m === undefined) {
    m = new Map(Object.keys(fields).map((f) => [goFold(f), f]));
    FOLDED.set(fields, m);
  }
  return m;
}

/** A shape with nothing below it to check (a leaf): its value is not walked. */
const isLeaf = (shape: Shape): boolean =>
  shape.fields === undefined && shape.values === undefined && shape.items === undefined;

function checkShape(c: Checker, v: JsonValue | undefined, shape: Shape, path: string, depth: number): void {
  if (depth > 32 || v === null || v === undefined || typeof v !== 'object' || isLeaf(shape)) return;
  if (Array.isArray(v)) {
    if (shape.items !== undefined)
      v.forEach((x, i) => checkShape(c, x, shape.items as Shape, `${path}[${i}]`, depth + 1));
    return;
  }
  const values = shape.values;
  if (values !== undefined) {
    if (isLeaf(values)) return;
    eachEntry(
      c,
      v,
      (k) => `${path}[${JSON.stringify(k)}]`,
      (c2, x, p) => checkShape(c2, x, values, p, depth + 1),
    );
    return;
  }
  const fields = shape.fields;
  if (fields === undefined) return;
  for (const k of Object.keys(v)) {
    const field = Object.hasOwn(fields, k) ? k : foldedFields(fields).get(goFold(k));
    if (field === undefined) continue; // unknown fields: Go ignores them, and so do we
    if (field !== k) {
      c.fail(
        `${path}.${k}`,
        `is decoded by Go as the field ${JSON.stringify(field)} (case-insensitive match); only the exact name is allowed`,
      );
    }
    const sub = fields[field] as Shape;
    if (!isLeaf(sub)) checkShape(c, v[k], sub, `${path}.${k}`, depth + 1);
  }
}

/** Refuse envelope and `signed` keys that Go would fold onto another field (see Shape above). */
export function checkGoFieldNames(role: string, top: JsonObject, what: string): void {
  const signedShape = SIGNED_SHAPE[expectedType(role)] ?? LEAF;
  const envelope: Shape = {
    fields: { signed: signedShape, signatures: { items: { fields: { keyid: LEAF, method: LEAF, sig: LEAF } } } },
  };
  checkShape(new Checker(what), top, envelope, '(top level)', 0);
}

/** Shared bits of the security suite: a Signet server on SQLite in a temp dir and notary's refusal shape. */
import { afterAll, beforeAll, expect } from 'vitest';
import { TestRepo, errorOf, testServer, type TestServer } from '../server/helpers.js';

export { codeOf } from '../helpers/errors.js';
export { TestRepo, ecdsaKey, errorOf, keyOf, multipart, rootKey, testServer } from '../server/helpers.js';
export type { KeyPair, TestServer } from '../server/helpers.js';

export type Reply = { statusCode: number; body: string };

/** A 4xx with notary's error envelope and code. */
export function expectRefused(r: Reply, status: number, code: string): void {
  expect(r.statusCode, r.body).toBe(status);
  expect(errorOf(r.body).code, r.body).toBe(code);
}

/** 400 INVALID_UPDATE with notary's SerializableError name (and message, when given). */
export function expectInvalidUpdate(r: Reply, name: string, msg?: string | RegExp): void {
  expectRefused(r, 400, 'INVALID_UPDATE');
  const d = errorOf(r.body).detail as { Name: string; Error: { Msg: string } };
  expect(d.Name, r.body).toBe(name);
  if (typeof msg === 'string') expect(d.Error.Msg).toBe(msg);
  else if (msg !== undefined) expect(d.Error.Msg).toMatch(msg);
}

export interface ServerSuite {
  /** set once the server has started (beforeAll) */
  srv: TestServer;
  /** a GUN no other test of the file has used */
  fresh(): string;
  /** an initialised, unpublished repository on a fresh GUN with a server-held snapshot */
  initialised(): Promise<TestRepo>;
  /** a published repository on a fresh GUN (server-held snapshot unless told otherwise) */
  published(serverSnapshot?: boolean): Promise<TestRepo>;
}

/** One test server for the calling file: started before its tests, closed after them. */
export function serverSuite(gunPrefix: string): ServerSuite {
  let n = 0;
  const suite: ServerSuite = {
    srv: undefined as unknown as TestServer,
    fresh: () => `${gunPrefix}${++n}`,
    initialised: () => new TestRepo(suite.srv, suite.fresh()).init({ serverSnapshot: true }),
    async published(serverSnapshot = true) {
      const repo = await new TestRepo(suite.srv, suite.fresh()).init({ serverSnapshot });
      const r = await repo.publish();
      expect(r.statusCode, r.body).toBe(200);
      return repo;
    },
  };
  beforeAll(async () => {
    suite.srv = await testServer();
  });
  afterAll(async () => {
    await suite.srv.close();
  });
  return suite;
}

/**
 * deploy/compose/compose.yaml: valid against the Compose Specification's JSON Schema (vendored in
 * test/fixtures/compose-spec/, see its README), and wired as docs say. `docker compose config` would
 * be the other check, but the Docker 28 CLI here has no compose plugin (`docker compose` answers
 * "unknown command"), so the schema is the check of record.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import draft7 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../cli/signet.js';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: (string | { source: string })[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file?: string; environment?: string }>;
}

const file = path.join(ROOT, 'deploy', 'compose', 'compose.yaml');
const text = readFileSync(file, 'utf8');
const compose = parseYaml(text) as Compose;
const services = Object.entries(compose.services);

/** Where each service keeps state that must survive a re-created container. */
const STATE: Record<string, string[]> = {
  postgres: ['/var/lib/postgresql/data'],
  registry: ['/var/lib/registry'],
  'signet-server': ['/var/lib/signet'],
  'signet-proxy': ['/var/lib/signet/proxy-trust'],
  jenkins: ['/var/jenkins_home'],
};

describe('deploy/compose/compose.yaml', () => {
  it('is valid against the Compose Specification JSON Schema', () => {
    const schema = JSON.parse(
      readFileSync(path.join(ROOT, 'test', 'fixtures', 'compose-spec', 'compose-spec.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv({ strict: false, allErrors: true });
    // The schema names its meta-schema by the https URL; ajv ships draft-07 under the http one.
    ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
    // and the schema is not vacuous: a wrong healthcheck and an unknown key are refused
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.registry!.healthcheck = 'wget';
    broken.services.registry!.restart_policy = 'always';
    expect(validate(broken)).toBe(false);
  });

  it('has the registry, signet server and proxy, PostgreSQL and Jenkins, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'jenkins',
      'postgres',
      'registry',
      'signet-proxy',
      'signet-server',
    ]);
    expect(compose.services.registry!.image).toBe('registry:2.8');
    expect(compose.services['signet-server']!.command![0]).toBe('server');
    expect(compose.services['signet-proxy']!.command).toContain('proxy');
    expect(compose.services['signet-proxy']!.command).toContain('--upstream=http://registry:5000');
    for (const [name, s] of services) expect(s.healthcheck?.test.length, name).toBeGreaterThan(1);
  });

  it('wires services to ones that exist, and waits for them to be healthy', () => {
    for (const [name, s] of services)
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(cond.condition).toBe('service_healthy');
      }
    expect(Object.keys(compose.services['signet-server']!.depends_on!)).toContain('postgres');
    expect(Object.keys(compose.services.jenkins!.depends_on!).sort()).toEqual([
      'registry',
      'signet-proxy',
      'signet-server',
    ]);
    // the hosts named in commands and environment are services
    const hosts = [...text.matchAll(/(?:https?:\/\/|postgres:\/\/[^@\s]*@)?\b([a-z][a-z-]*):(\d{4})\b/g)].map(
      (m) => m[1]!,
    );
    for (const h of hosts.filter((x) => !['http', 'https', 'localhost'].includes(x)))
      expect(compose.services[h], `host ${h}`).toBeDefined();
  });

  it('passes secrets only as compose secrets from files, never as literal values', () => {
    for (const [name, s] of Object.entries(compose.secrets)) {
      expect(s.file, name).toMatch(/^\.\/secrets\//);
      expect(s.environment, name).toBeUndefined();
    }
    expect(text).not.toMatch(/postgres:\/\/[^:\s/]+:[^@\s]+@/); // no password in a URL
    for (const [name, s] of services) {
      for (const [k, v] of Object.entries(s.environment ?? {}))
        if (/PASSWORD|PASSPHRASE|SECRET|TOKEN|PRIVATE|_KEY$/.test(k)) {
          expect(k, `${name}.${k}`).toMatch(/_FILE$/);
          expect(v).toMatch(/^\/run\/secrets\//);
        }
      for (const arg of s.command ?? [])
        if (/passphrase|password|key|config|secret/i.test(arg.split('=')[0]!) && arg.includes('='))
          expect(arg.split('=')[1], `${name}: ${arg}`).toMatch(/^\/run\/secrets\//);
      for (const ref of s.secrets ?? []) {
        const source = typeof ref === 'string' ? ref : ref.source;
        expect(compose.secrets[source], `${name} uses secret ${source}`).toBeDefined();
      }
    }
  });

  it('keeps every piece of state in a named volume', () => {
    for (const [name, paths] of Object.entries(STATE)) {
      const mounts = (compose.services[name]!.volumes ?? []).map((v) => v.split(':'));
      for (const p of paths) {
        const m = mounts.find(([, target]) => target === p);
        expect(m, `${name}: ${p}`).toBeDefined();
        expect(compose.volumes[m![0]!], `${name}: volume ${m![0]!}`).not.toBeUndefined();
      }
    }
    // the signet data dir and trust dir flags point into those volumes
    expect(compose.services['signet-server']!.command).toContain('--data-dir=/var/lib/signet');
    expect(compose.services['signet-proxy']!.command).toContain('--trust-dir=/var/lib/signet/proxy-trust');
  });
});

// A throw-away ECDSA P-256 certificate authority for tests, made with the openssl CLI.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile, rm, chmod } from 'node:fs/promises';
import path from 'node:path';
import { requireBinary, run } from './proc.js';

export interface TestCA {
  dir: string;
  caCert: string; // path
  caKey: string; // path
  /**
   * Issue a leaf signed by the CA: `<dir>/<name>.crt` + `<dir>/<name>.key` (PKCS#8, unencrypted).
   * SANs DNS:localhost, IP:127.0.0.1. `eku` defaults to both serverAuth and clientAuth.
   */
  issue(
    name: string,
    opts?: { cn?: string; eku?: 'serverAuth' | 'clientAuth' },
  ): Promise<{ cert: string; key: string }>;
}

const OPENSSL = '/usr/bin/openssl';

async function openssl(args: string[]): Promise<void> {
  const r = await run(OPENSSL, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (${String(r.code)}):\n${r.stderr}`);
}

/** Create a CA in `dir` (created if needed): `ca.crt`, `ca.key`. */
export async function makeTestCA(dir: string): Promise<TestCA> {
  await requireBinary(OPENSSL, 'openssl');
  await mkdir(dir, { recursive: true });
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '3650',
    '-sha256',
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-subj',
    '/CN=signet-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await chmod(caKey, 0o600);

  const issue: TestCA['issue'] = async (name, opts = {}) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`TestCA.issue: bad name ${JSON.stringify(name)}`);
    const cn = opts.cn ?? name;
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    await openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${cn}`,
    ]);
    await writeFile(
      ext,
      [
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage = ${opts.eku ?? 'serverAuth,clientAuth'}`,
        'subjectAltName = DNS:localhost,IP:127.0.0.1',
        'authorityKeyIdentifier = keyid,issuer',
        '',
      ].join('\n'),
    );
    // A random serial (no -CAcreateserial) so concurrent issues never race on ca.srl.
    await openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      '825',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
    await Promise.all([rm(csr, { force: true }), rm(ext, { force: true }), chmod(key, 0o600)]);
    return { cert, key };
  };

  return { dir, caCert, caKey, issue };
}

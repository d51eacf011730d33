/**
 * The signer service's TLS material, checked before anything listens: its certificate chain and
 * key (they must belong together) and the CA bundle its clients' certificates must chain to.
 * notary-signer requires client certificates whenever `client_ca_file` is set
 * (N:utils/configuration.go ParseServerTLS: `tls.RequireAndVerifyClientCert`); here the client CA is
 * mandatory, so there is no way to run without them.
 */
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignetError } from '../../errors.js';
import { pemBlocks } from '../../tuf/index.js';

export interface ServiceTlsFiles {
  /** PEM certificate chain of the service (leaf first) */
  certFile: string;
  /** PEM private key of the leaf */
  keyFile: string;
  /** PEM bundle of the CA certificates that issue client certificates */
  clientCaFile: string;
}

export interface ServiceTls {
  certChain: Buffer;
  privateKey: Buffer;
  clientCa: Buffer;
  /** subject of the service certificate, for the start-up log */
  subject: string;
}

/** A PEM file named by a flag, for the signer's TLS on either side; USAGE naming the flag when unreadable. */
export async function readPem(file: string, flag: string, what: string, doc?: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new SignetError('USAGE', `cannot read ${what} ${file} (${flag}): ${code}`, {
      cause,
      fix: `give ${flag} a readable PEM file${doc === undefined ? '' : ` (${doc})`}`,
    });
  }
}

function certificates(pem: Buffer, file: string, flag: string): crypto.X509Certificate[] {
  const blocks = pemBlocks(pem.toString('utf8')).filter((b) => b.type === 'CERTIFICATE');
  const certs: crypto.X509Certificate[] = [];
  for (const b of blocks) {
    try {
      certs.push(new crypto.X509Certificate(b.bytes));
    } catch (cause) {
      throw new SignetError('USAGE', `${file} (${flag}) holds a certificate that does not parse`, {
        cause,
        fix: `give ${flag} PEM certificates (openssl x509 -in ${file} -noout -text shows what is wrong)`,
      });
    }
  }
  if (certs.length === 0) {
    throw new SignetError('USAGE', `${file} (${flag}) holds no PEM certificate`, {
      fix: `give ${flag} a file with -----BEGIN CERTIFICATE----- blocks`,
    });
  }
  return certs;
}

/** Reads and checks the files; every refusal names the flag to fix. */
export async function loadServiceTls(files: ServiceTlsFiles): Promise<ServiceTls> {
  const [certChain, privateKey, clientCa] = await Promise.all([
    readPem(files.certFile, '--tls-cert', 'the service certificate'),
    readPem(files.keyFile, '--tls-key', 'the service key'),
    readPem(files.clientCaFile, '--client-ca', 'the client CA bundle'),
  ]);
  const [leaf] = certificates(certChain, files.certFile, '--tls-cert');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(privateKey);
  } catch (cause) {
    throw new SignetError('USAGE', `${files.keyFile} (--tls-key) is not an unencrypted PEM private key`, {
      cause,
      fix: 'give --tls-key the PEM key of --tls-cert, without a passphrase',
    });
  }
  if (leaf === undefined || !leaf.checkPrivateKey(key)) {
    throw new SignetError(
      'USAGE',
      `${files.keyFile} (--tls-key) is not the key of the certificate in ${files.certFile}`,
      {
        fix: 'give --tls-key the private key that belongs to the first certificate of --tls-cert',
      },
    );
  }
  const cas = certificates(clientCa, files.clientCaFile, '--client-ca');
  const notCa = cas.find((c) => !c.ca);
  if (notCa !== undefined) {
    throw new SignetError(
      'USAGE',
      `${files.clientCaFile} (--client-ca) holds a certificate that is not a CA: ${notCa.subject}`,
      {
        fix: 'give --client-ca the CA certificate(s) that issued the clients’ certificates (basicConstraints CA:TRUE), not a leaf',
      },
    );
  }
  return { certChain, privateKey, clientCa, subject: leaf.subject };
}

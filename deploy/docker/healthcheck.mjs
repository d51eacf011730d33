// Container health probe (Dockerfile HEALTHCHECK, compose healthcheck): exit 0 when URL answers
// 200. For https, the chain is checked against CA_FILE (the server's certificate or CA), or against
// <data dir>/tls/ca.crt that `signet server` generates; the host name is not, because the probe
// reaches the server on 127.0.0.1 while its certificate names the service.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const url = new URL(process.argv[2] ?? 'https://127.0.0.1:4443/_notary_server/health');
const caFile = process.argv[3] ?? `${process.env.SIGNET_DATA_DIR ?? '/var/lib/signet'}/tls/ca.crt`;
const options =
  url.protocol === 'https:'
    ? { ca: existsSync(caFile) ? readFileSync(caFile) : undefined, checkServerIdentity: () => undefined }
    : {};
const req = (url.protocol === 'https:' ? https : http).get(url, { ...options, timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => {
  console.error(`health check ${url.href}: ${e.message}`);
  process.exit(1);
});

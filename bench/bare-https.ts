// The runtime's own limit: a bare node:https server that answers every GET with the bytes of one
// file (chosen by the last path segment, e.g. /x/timestamp.json → <dir>/timestamp.json), with the
// headers a trust server sends. Started as its own process by the benchmark:
//   node bench/.build/bench/bare-https.js --port P --cert F --key F --dir D
import { readFileSync, readdirSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`bare-https: --${name} is required`);
  return v;
};
const dir = arg('dir');
const files = new Map<string, Buffer>();
for (const f of readdirSync(dir)) files.set(f, readFileSync(path.join(dir, f)));
const lastModified = new Date().toUTCString();

const server = https.createServer(
  { cert: readFileSync(arg('cert')), key: readFileSync(arg('key')), keepAliveTimeout: 60_000 },
  (req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.split('/').pop() ?? '';
    const body = files.get(name);
    if (req.method !== 'GET' || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(
        '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}\n',
      );
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'public, max-age=300, s-maxage=300, must-revalidate',
      'Last-Modified': lastModified,
    });
    res.end(body);
  },
);
server.listen(Number(arg('port')), '127.0.0.1');
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

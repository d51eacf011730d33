// A tiny Docker Engine API stand-in on a unix socket, so the real docker CLI's trust code
// (trust sign, DOCKER_CONTENT_TRUST=1 push/pull) can run where no engine exists. It answers only:
//   HEAD/GET /_ping, GET /vN/version, GET /vN/images/<ref>/json,
//   POST /vN/images/<name>/push?tag=T        (JSON progress ending with {"aux":{"Tag","Digest","Size"}})
//   POST /vN/images/create?fromImage=N&tag=sha256:…   (pull by digest)
//   POST /vN/images/<name>@<dgst>/tag?repo=…&tag=…
// Every request is logged as "METHOD URL -> status" in `requests` (same shape as the
// reference capture vectors/docker/cli/fake-dockerd-requests.log).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface FakeDockerd {
  socket: string;
  dockerHost: string; // unix://…
  requests: string[];
  stop(): Promise<void>;
}

const API_VERSION = '1.50';

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body) + '\n');
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    'Api-Version': API_VERSION,
  });
  res.end(bytes);
}

function streamJson(res: http.ServerResponse, messages: unknown[]): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': API_VERSION });
  for (const m of messages) res.write(JSON.stringify(m) + '\r\n');
  res.end();
}

export async function startFakeDockerd(opts: {
  dir: string;
  resolvePush: (name: string, tag: string) => Promise<{ digest: string; size: number }>;
  pullByDigest?: (name: string, digest: string) => Promise<boolean>;
}): Promise<FakeDockerd> {
  mkdirSync(opts.dir, { recursive: true });
  // sun_path is at most 107 bytes: fall back to a short temp dir for a long `dir`.
  let sockDir = opts.dir;
  let ownSockDir = false;
  if (Buffer.byteLength(path.join(opts.dir, 'docker.sock')) > 100) {
    sockDir = mkdtempSync(path.join(os.tmpdir(), 'sfd-'));
    ownSockDir = true;
  }
  const socket = path.join(sockDir, 'docker.sock');
  rmSync(socket, { force: true });
  const requests: string[] = [];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://docker');
    const p = decodeURIComponent(url.pathname).replace(/^\/v\d+(?:\.\d+)?(?=\/)/, '');
    let m: RegExpMatchArray | null;

    if (p === '/_ping' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, {
        'Api-Version': API_VERSION,
        'Builder-Version': '1',
        'Docker-Experimental': 'false',
        Ostype: 'linux',
        Swarm: 'inactive',
        'Cache-Control': 'no-cache, no-store, must-revalidate',
        Pragma: 'no-cache',
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': '2',
      });
      res.end(method === 'HEAD' ? undefined : 'OK');
      return;
    }
    if (p === '/version' && method === 'GET') {
      sendJson(res, 200, {
        Platform: { Name: 'Signet fake dockerd' },
        Components: [
          { Name: 'Engine', Version: '28.2.2', Details: { ApiVersion: API_VERSION, MinAPIVersion: '1.24' } },
        ],
        Version: '28.2.2',
        ApiVersion: API_VERSION,
        MinAPIVersion: '1.24',
        GitCommit: 'fake',
        GoVersion: 'go1.24',
        Os: 'linux',
        Arch: 'amd64',
        KernelVersion: os.release(),
        BuildTime: '1970-01-01T00:00:00.000000000+00:00',
      });
      return;
    }
    if (method === 'GET' && (m = p.match(/^\/images\/(.+)\/json$/))) {
      // Every image "exists locally" (trust sign only checks that the inspect succeeds).
      const ref = m[1]!;
      const id = `sha256:${createHash('sha256').update(`fake-image:${ref}`).digest('hex')}`;
      sendJson(res, 200, {
        Id: id,
        RepoTags: [ref],
        RepoDigests: [],
        Created: '1970-01-01T00:00:00Z',
        Os: 'linux',
        Architecture: 'amd64',
        Size: 0,
        Config: {},
        RootFS: { Type: 'layers', Layers: [] },
        Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      });
      return;
    }
    if (method === 'POST' && (m = p.match(/^\/images\/(.+)\/push$/))) {
      const name = m[1]!;
      const tag = url.searchParams.get('tag') || 'latest';
      try {
        const { digest, size } = await opts.resolvePush(name, tag);
        streamJson(res, [
          { status: `The push refers to repository [${name}]` },
          { status: 'Layer already exists', progressDetail: {}, id: digest.slice(7, 19) },
          { status: `${tag}: digest: ${digest} size: ${size}` },
          { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } },
        ]);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        streamJson(res, [
          { status: `The push refers to repository [${name}]` },
          { errorDetail: { message }, error: message },
        ]);
      }
      return;
    }
    if (method === 'POST' && p === '/images/create') {
      const name = url.searchParams.get('fromImage') ?? '';
      const digest = url.searchParams.get('tag') ?? '';
      const ok = opts.pullByDigest ? await opts.pullByDigest(name, digest) : true;
      if (!ok) {
        sendJson(res, 404, { message: `manifest for ${name}@${digest} not found: manifest unknown` });
        return;
      }
      streamJson(res, [
        { status: `Pulling from ${name}`, id: digest },
        { status: `Digest: ${digest}` },
        { status: `Status: Downloaded newer image for ${name}@${digest}` },
      ]);
      return;
    }
    if (method === 'POST' && /^\/images\/.+\/tag$/.test(p)) {
      res.writeHead(201, { 'Api-Version': API_VERSION, 'Content-Length': '0' });
      res.end();
      return;
    }
    sendJson(res, 404, { message: `page not found (fake dockerd): ${method} ${url.pathname}` });
  };

  const server = http.createServer((req, res) => {
    res.on('finish', () => requests.push(`${req.method ?? '?'} ${req.url ?? ''} -> ${res.statusCode}`));
    req.resume();
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    socket,
    dockerHost: `unix://${socket}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(socket, { force: true });
      if (ownSockDir) rmSync(sockDir, { recursive: true, force: true });
    },
  };
}

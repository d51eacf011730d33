// A TCP pass-through on 127.0.0.1 that counts the bytes each way (TLS records included), so the
// size of what a client uploads and downloads can be measured without touching client or server.
import net from 'node:net';

export interface CountingProxy {
  port: number;
  up: number; // client → server
  down: number; // server → client
  connections: number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>();
  const state = { up: 0, down: 0, connections: 0 };
  const server = net.createServer((c) => {
    state.connections++;
    const s = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(c);
    sockets.add(s);
    c.on('data', (b: Buffer) => {
      state.up += b.length;
    });
    s.on('data', (b: Buffer) => {
      state.down += b.length;
    });
    c.pipe(s);
    s.pipe(c);
    const end = (): void => {
      c.destroy();
      s.destroy();
      sockets.delete(c);
      sockets.delete(s);
    };
    c.on('error', end);
    s.on('error', end);
    c.on('close', end);
    s.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('proxy: no address');
  return {
    port: addr.port,
    get up() {
      return state.up;
    },
    get down() {
      return state.down;
    },
    get connections() {
      return state.connections;
    },
    reset() {
      state.up = 0;
      state.down = 0;
      state.connections = 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Entry point of a Signet server in a child process (restart / SIGKILL tests). Configuration comes
 * from argv: <dataDir> <port> [database]. Logs JSON to stdout; SIGTERM/SIGINT shut down gracefully.
 */
import { startServer } from '../../src/server/index.js';

const [dataDir, port, database] = process.argv.slice(2);
if (!dataDir || !port) {
  process.stderr.write('usage: child-server <dataDir> <port> [database]\n');
  process.exit(2);
}
await startServer({
  listen: `127.0.0.1:${port}`,
  dataDir,
  database: database || undefined,
  tls: { mode: 'auto' },
  signerPassphrase: 'child-test-passphrase',
  logLevel: 'info',
});

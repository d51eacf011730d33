/** `--listen HOST:PORT` (IPv6 as `[::1]:PORT`; an empty host is every interface), for every command that listens. */
import { SignetError } from './errors.js';

export function parseListen(listen: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  if (m === null)
    throw new SignetError('USAGE', `${flag} must be HOST:PORT, got ${JSON.stringify(listen)}`, {
      fix: `e.g. ${flag} 127.0.0.1:4443, or ${flag} [::1]:4443; an empty host (${flag} :4443) listens on every interface`,
    });
  const port = Number(m[3]);
  if (port > 65535) throw new SignetError('USAGE', `port ${port} is out of range`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] as string)), port };
}

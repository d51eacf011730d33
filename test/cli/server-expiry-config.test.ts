/** `signet server --expiry-webhook URL --expiry-warn 30d` (and env, config file) become the server's expiry options. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveServerConfig } from '../../src/cli/server-config.js';

describe('server expiry flags', () => {
  it('takes the webhook and the warning window from flags, env or the config file', () => {
    const flags = resolveServerConfig({ expiryWebhook: 'https://hooks.example/x', expiryWarn: '14d' }, {}, '/home/u');
    expect(flags.options).toMatchObject({ expiryWebhook: 'https://hooks.example/x', expiryWarnMs: 14 * 86_400_000 });
    const env = resolveServerConfig({}, { SIGNET_EXPIRY_WEBHOOK: 'http://127.0.0.1:9/a', SIGNET_EXPIRY_WARN: '72h' });
    expect(env.options).toMatchObject({ expiryWebhook: 'http://127.0.0.1:9/a', expiryWarnMs: 72 * 3_600_000 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-cfg-'));
    try {
      const file = path.join(dir, 'server.json');
      writeFileSync(file, JSON.stringify({ expiry: { webhook: 'https://a.example/', warn: '30d' } }));
      expect(resolveServerConfig({ config: file }, {}).options).toMatchObject({
        expiryWebhook: 'https://a.example/',
        expiryWarnMs: 30 * 86_400_000,
      });
      // the flag wins over the file
      expect(resolveServerConfig({ config: file, expiryWarn: '1d' }, {}).options?.expiryWarnMs).toBe(86_400_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(resolveServerConfig({}, {}).options).not.toHaveProperty('expiryWebhook');
  });

  it('refuses a webhook that is not http(s) and a warning that is not a duration, naming the flag', () => {
    expect(() => resolveServerConfig({ expiryWebhook: 'file:///etc/passwd' }, {})).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('--expiry-webhook') }),
    );
    expect(() => resolveServerConfig({ expiryWarn: 'a month' }, {})).toThrow(
      expect.objectContaining({ code: 'USAGE', fix: 'e.g. --expiry-warn 30d' }),
    );
    expect(() => resolveServerConfig({ expiryWarn: '0' }, {})).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

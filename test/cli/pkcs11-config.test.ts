// Where the PKCS#11 module and PIN come from: flags, then the environment (the only reader of
// process.env is src/cli/config.ts). The PIN itself is only ever taken from SIGNET_PKCS11_PIN or a file.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveGlobalConfig } from '../../src/cli/config.js';

const tty = { stdin: false, stderr: false, stdout: false };

describe('PKCS#11 settings', () => {
  it('takes the module from --pkcs11-module, else SIGNET_PKCS11_MODULE', () => {
    const env = { HOME: '/h', SIGNET_PKCS11_MODULE: '/env/m.so' };
    expect(resolveGlobalConfig({ pkcs11Module: '/flag/m.so' }, env, tty).pkcs11.modulePath).toBe('/flag/m.so');
    expect(resolveGlobalConfig({}, env, tty).pkcs11.modulePath).toBe('/env/m.so');
    expect(resolveGlobalConfig({}, { HOME: '/h' }, tty).pkcs11).toEqual({});
  });

  it('takes the PIN from --pkcs11-pin-file, else SIGNET_PKCS11_PIN_FILE, else SIGNET_PKCS11_PIN', () => {
    const env = { HOME: '/h', SIGNET_PKCS11_PIN_FILE: 'env.pin', SIGNET_PKCS11_PIN: '1234' };
    expect(resolveGlobalConfig({ pkcs11PinFile: 'flag.pin' }, env, tty).pkcs11).toEqual({
      pinFile: path.resolve('flag.pin'),
    });
    expect(resolveGlobalConfig({}, env, tty).pkcs11).toEqual({ pinFile: path.resolve('env.pin') });
    expect(resolveGlobalConfig({}, { HOME: '/h', SIGNET_PKCS11_PIN: '1234' }, tty).pkcs11).toEqual({ pin: '1234' });
    // an empty variable counts as unset
    expect(
      resolveGlobalConfig({}, { HOME: '/h', SIGNET_PKCS11_PIN_FILE: '', SIGNET_PKCS11_PIN: '' }, tty).pkcs11,
    ).toEqual({});
  });
});

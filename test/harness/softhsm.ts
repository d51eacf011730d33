// A SoftHSM2 token made by the test (Debian package "softhsm2"): its own softhsm2.conf with
// directories.tokendir in a temp folder, `softhsm2-util --init-token --free`, the user PIN in a
// 0600 file. SOFTHSM2_CONF must reach every process that loads the module (env()).
import { access, mkdir, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { requireBinary, run } from './proc.js';

export const SOFTHSM_UTIL = '/usr/bin/softhsm2-util';
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmToken {
  label: string;
  pin: string;
  soPin: string;
  /** file holding the user PIN (0600) */
  pinFile: string;
  conf: string;
  tokenDir: string;
  module: string;
  /** SOFTHSM2_CONF for children */
  env(): NodeJS.ProcessEnv;
}

/** Creates `<dir>/softhsm/{softhsm2.conf,tokens/}` and a token `label` with user PIN `pin`. */
export async function createSoftHsmToken(
  dir: string,
  label = 'signet-test',
  pin = '1234-user-pin',
  soPin = '5678-so-pin',
): Promise<SoftHsmToken> {
  await requireBinary(SOFTHSM_UTIL, 'softhsm2');
  try {
    createRequire(import.meta.url).resolve('pkcs11js');
  } catch {
    throw new Error(
      'the optional npm package pkcs11js is not installed: install the Debian packages "python3 make g++" and run `npm install` (it compiles pkcs11js)',
    );
  }
  try {
    await access(SOFTHSM_MODULE, fsConstants.R_OK);
  } catch {
    throw new Error(`${SOFTHSM_MODULE} is missing: install the Debian package "softhsm2"`);
  }
  const base = path.join(dir, 'softhsm');
  const tokenDir = path.join(base, 'tokens');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  const conf = path.join(base, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const r = await run(SOFTHSM_UTIL, ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin], {
    env,
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`softhsm2-util --init-token failed:\n${r.stdout}\n${r.stderr}`);
  const pinFile = path.join(base, 'user.pin');
  await writeFile(pinFile, `${pin}\n`, { mode: 0o600 });
  return { label, pin, soPin, pinFile, conf, tokenDir, module: SOFTHSM_MODULE, env: () => ({ SOFTHSM2_CONF: conf }) };
}

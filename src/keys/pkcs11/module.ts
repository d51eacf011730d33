/**
 * The PKCS#11 module through the optional native package `pkcs11js`, loaded with `import()` only when a
 * token key is used (a client command without one never loads it: test/cli/startup-graph.test.ts).
 * Every token operation runs in `withSession`: load the module, find the token, open a session, log
 * in, run, log out, finalize. Operations are serialised (one Cryptoki initialisation at a time).
 */
import { readFile } from 'node:fs/promises';
import { SignetError, isSignetError } from '../../errors.js';
import type { Pkcs11Uri } from './uri.js';

/** Where the module and PIN come from when the URI does not say (flags and environment, resolved by the CLI). */
export interface Pkcs11Settings {
  /** --pkcs11-module or SIGNET_PKCS11_MODULE */
  modulePath?: string;
  /** --pkcs11-pin-file or SIGNET_PKCS11_PIN_FILE */
  pinFile?: string;
  /** SIGNET_PKCS11_PIN */
  pin?: string;
}

type Handle = Buffer;
type Attr = { type: number; value?: number | boolean | string | Buffer };

/** The subset of pkcs11js 2.x used here (its own typings are not needed to build without it). */
export interface Cryptoki {
  load(path: string): void;
  close(): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string; manufacturerID: string; model: string; serialNumber: string };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_Logout(session: Handle): void;
  C_FindObjectsInit(session: Handle, template: Attr[]): void;
  C_FindObjects(session: Handle, max: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Attr[]): Attr[];
  C_CreateObject(session: Handle, template: Attr[]): Handle;
  C_SetAttributeValue(session: Handle, object: Handle, template: Attr[]): void;
  C_DestroyObject(session: Handle, object: Handle): void;
  C_GenerateKeyPair(
    session: Handle,
    mechanism: { mechanism: number },
    publicTemplate: Attr[],
    privateTemplate: Attr[],
  ): { publicKey: Handle; privateKey: Handle };
  C_SignInit(session: Handle, mechanism: { mechanism: number }, key: Handle): void;
  C_Sign(session: Handle, data: Buffer, out: Buffer): Buffer;
}

export type Pkcs11Constants = Record<string, number>;
interface Pkcs11Package {
  PKCS11: new () => Cryptoki;
}

export interface Session {
  readonly p11: Cryptoki;
  readonly c: Pkcs11Constants;
  readonly handle: Handle;
  /** the URI's token label, for messages */
  readonly tokenLabel: string;
}

const INSTALL_FIX =
  'install the optional package: `npm install pkcs11js` next to signet (a prebuilt binary is used when there is one; otherwise it builds with python3, make and a C++ compiler: apt-get install python3 make g++)';

let loaded: Promise<Pkcs11Package & Pkcs11Constants> | undefined;

async function loadPackage(): Promise<Pkcs11Package & Pkcs11Constants> {
  loaded ??= (async () => {
    try {
      const name = 'pkcs11js';
      const mod = (await import(name)) as { default?: unknown };
      return (mod.default ?? mod) as Pkcs11Package & Pkcs11Constants;
    } catch (cause) {
      loaded = undefined;
      throw new SignetError(
        'PKCS11_UNAVAILABLE',
        'PKCS#11 keys need the native package pkcs11js, which is not installed',
        {
          cause,
          fix: INSTALL_FIX,
        },
      );
    }
  })();
  return loaded;
}

/** The PKCS#11 return value name of a pkcs11js error (`CKR_PIN_INCORRECT`), if it is one. */
export function ckr(err: unknown): string | undefined {
  const m = /CKR_[A-Z_]+/.exec(err instanceof Error ? err.message : '');
  return m?.[0];
}

async function readPin(uri: Pkcs11Uri, settings: Pkcs11Settings): Promise<string> {
  const fromFile = async (file: string, where: string): Promise<string> => {
    try {
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (cause) {
      throw new SignetError('PKCS11_PIN', `cannot read the PKCS#11 PIN file ${file} (${where})`, {
        cause,
        fix: `point ${where} at a readable file holding the token's user PIN`,
      });
    }
  };
  if (uri.pinSource !== undefined) {
    const file = uri.pinSource.startsWith('file:')
      ? decodeURIComponent(new URL(uri.pinSource).pathname)
      : uri.pinSource;
    return fromFile(file, "the URI's pin-source");
  }
  if (settings.pinFile !== undefined) return fromFile(settings.pinFile, '--pkcs11-pin-file or SIGNET_PKCS11_PIN_FILE');
  if (settings.pin !== undefined) return settings.pin;
  throw new SignetError('PKCS11_PIN', `no PIN for the PKCS#11 token ${uri.token ?? ''}`.trimEnd(), {
    fix: 'give the user PIN with --pkcs11-pin-file FILE, SIGNET_PKCS11_PIN_FILE=FILE, SIGNET_PKCS11_PIN, or pin-source=file:FILE in the URI',
  });
}

function modulePathOf(uri: Pkcs11Uri, settings: Pkcs11Settings): string {
  const p = uri.modulePath ?? settings.modulePath;
  if (p === undefined || p === '')
    throw new SignetError('PKCS11_MODULE', 'no PKCS#11 module given for a pkcs11: key', {
      fix: 'pass --pkcs11-module /path/to/module.so (e.g. /usr/lib/softhsm/libsofthsm2.so), set SIGNET_PKCS11_MODULE, or add ?module-path=… to the URI',
    });
  return p;
}

const trim = (s: string): string => s.replace(/[\s\0]+$/, '');

function findSlot(p11: Cryptoki, uri: Pkcs11Uri, modulePath: string): { slot: Handle; label: string } {
  const found: { slot: Handle; label: string }[] = [];
  const labels: string[] = [];
  for (const slot of p11.C_GetSlotList(true)) {
    const info = p11.C_GetTokenInfo(slot);
    const label = trim(info.label);
    if (label !== '') labels.push(label); // an uninitialised slot (SoftHSM keeps one free)
    if (uri.token !== undefined && label !== uri.token) continue;
    if (uri.manufacturer !== undefined && trim(info.manufacturerID) !== uri.manufacturer) continue;
    if (uri.model !== undefined && trim(info.model) !== uri.model) continue;
    if (uri.serial !== undefined && trim(info.serialNumber) !== uri.serial) continue;
    if (uri.slotId !== undefined && slot.readUIntLE(0, Math.min(slot.length, 6)) !== uri.slotId) continue;
    found.push({ slot, label });
  }
  const first = found[0];
  if (first === undefined)
    throw new SignetError(
      'PKCS11_TOKEN_NOT_FOUND',
      `no PKCS#11 token ${JSON.stringify(uri.token ?? '')} in ${modulePath}`,
      {
        fix:
          labels.length > 0
            ? `name one of its tokens: ${labels.map((l) => `token=${l}`).join(', ')}`
            : 'initialise a token first (e.g. softhsm2-util --init-token --free --label L)',
      },
    );
  if (found.length > 1)
    throw new SignetError('PKCS11_URI', `${found.length} tokens in ${modulePath} match the URI`, {
      fix: 'add token=<label> (or serial=) to the URI',
    });
  return first;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `fn` in a logged-in read/write session on the URI's token; serialised process-wide. */
export function withSession<T>(
  uri: Pkcs11Uri,
  settings: Pkcs11Settings,
  fn: (s: Session) => Promise<T> | T,
): Promise<T> {
  const run = queue.then(() => openAndRun(uri, settings, fn));
  queue = run.catch(() => undefined);
  return run;
}

async function openAndRun<T>(uri: Pkcs11Uri, settings: Pkcs11Settings, fn: (s: Session) => Promise<T> | T): Promise<T> {
  const pkg = await loadPackage();
  const modulePath = modulePathOf(uri, settings);
  const p11 = new pkg.PKCS11();
  try {
    p11.load(modulePath);
  } catch (cause) {
    throw new SignetError('PKCS11_MODULE', `cannot load the PKCS#11 module ${modulePath}`, {
      cause,
      fix: "check --pkcs11-module / SIGNET_PKCS11_MODULE / module-path: it must be the token vendor's .so (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so, Debian package softhsm2)",
    });
  }
  let initialised = false;
  try {
    const pin = await readPin(uri, settings);
    p11.C_Initialize();
    initialised = true;
    const { slot, label } = findSlot(p11, uri, modulePath);
    const handle = p11.C_OpenSession(slot, pkg.CKF_SERIAL_SESSION! | pkg.CKF_RW_SESSION!);
    try {
      try {
        p11.C_Login(handle, pkg.CKU_USER!, pin);
      } catch (cause) {
        const code = ckr(cause);
        if (code === 'CKR_USER_ALREADY_LOGGED_IN') {
          /* a shared session state: fine */
        } else if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE')
          throw new SignetError('PKCS11_PIN', `wrong PIN for the PKCS#11 token ${label}`, {
            cause,
            fix: "give the token's user PIN (not the SO PIN) with --pkcs11-pin-file, SIGNET_PKCS11_PIN_FILE or SIGNET_PKCS11_PIN; a token locks after several wrong PINs",
          });
        else if (code === 'CKR_PIN_LOCKED')
          throw new SignetError('PKCS11_PIN', `the PIN of the PKCS#11 token ${label} is locked`, {
            cause,
            fix: 'unlock it with the security officer PIN (e.g. softhsm2-util / pkcs11-tool --init-pin)',
          });
        else throw cause;
      }
      return await fn({ p11, c: pkg, handle, tokenLabel: label });
    } finally {
      try {
        p11.C_Logout(handle);
      } catch {
        // already logged out or not logged in
      }
      p11.C_CloseSession(handle);
    }
  } catch (err) {
    if (isSignetError(err)) throw err;
    throw new SignetError('PKCS11', `PKCS#11 call failed on ${modulePath}: ${ckr(err) ?? (err as Error).message}`, {
      cause: err,
    });
  } finally {
    if (initialised) p11.C_Finalize();
    p11.close();
  }
}

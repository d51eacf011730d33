/**
 * Passphrase retrievers (N:passphrase/passphrase.go). A retriever is asked for the passphrase of one key; the
 * alias is the PEM `role` (root, targets, snapshot, or a signer/delegation name). It throws to
 * give up. Nothing here reads process.env: the environment map is an argument.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignetError } from '../errors.js';

export interface PassphraseRequest {
  /** canonical key ID (or a file name when the ID is not known yet) */
  keyId: string;
  /** PEM role: root | targets | snapshot | timestamp | <signer> */
  alias: string;
  /** true when choosing a passphrase for a key about to be written */
  createNew: boolean;
  /** 0 on the first ask; >0 after the previous answer did not decrypt the key */
  attempt: number;
}

export type PassphraseRetriever = (req: PassphraseRequest) => Promise<string>;

export const MIN_NEW_PASSPHRASE_LENGTH = 8;

/** Environment variables consulted for `alias`, in order (notary's first, then Docker's). */
export function passphraseEnvVars(alias: string): string[] {
  switch (alias) {
    case 'root':
      return ['NOTARY_ROOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE'];
    case 'targets':
      return ['NOTARY_TARGETS_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    case 'snapshot':
      return ['NOTARY_SNAPSHOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    case 'timestamp':
      // notary has no variable for it (a base role is never a delegation); Docker's covers it
      return ['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
    default:
      return ['NOTARY_DELEGATION_PASSPHRASE', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'];
  }
}

/** Constant-time equality of two secrets (compared through their SHA-256 digests). */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 7) : id;
}

function requiredError(alias: string, keyId: string, why: string): SignetError {
  const vars = passphraseEnvVars(alias);
  return new SignetError(
    'PASSPHRASE_REQUIRED',
    `${why} for the ${alias} key ${shortId(keyId)}: set ${vars.join(' or ')}`,
    {
      fix: `export ${vars[0]}=… (or ${vars[0]}_FILE=/path/to/file), or run in a terminal to be prompted`,
      details: { alias, variables: vars },
    },
  );
}

/** Reads a passphrase file: its content without one trailing newline. */
export async function readPassphraseFile(path: string, variable?: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    // name the variable that pointed here: the user set it, and may not recognise the path
    const where = variable !== undefined ? `${variable}=${path}` : `passphrase file ${path}`;
    throw new SignetError('PASSPHRASE_REQUIRED', `cannot read ${where}: ${why}`, {
      cause: err,
      ...(variable !== undefined
        ? {
            fix: `point ${variable} at a readable file holding the passphrase, or unset it`,
            details: { variables: [variable] },
          }
        : {}),
    });
  }
  return text.replace(/\r?\n$/, '');
}

/**
 * Looks `alias` up in `env`: each variable V of passphraseEnvVars(alias) is tried as V, then as
 * V_FILE (a file holding the passphrase). Empty values count as unset, as in notary.
 */
export async function passphraseFromEnv(
  env: Record<string, string | undefined>,
  alias: string,
): Promise<{ variable: string; passphrase: string } | undefined> {
  for (const v of passphraseEnvVars(alias)) {
    const direct = env[v];
    if (direct !== undefined && direct !== '') return { variable: v, passphrase: direct };
    const file = env[`${v}_FILE`];
    if (file !== undefined && file !== '') {
      const passphrase = await readPassphraseFile(file, `${v}_FILE`);
      if (passphrase !== '') return { variable: `${v}_FILE`, passphrase };
    }
  }
  return undefined;
}

/**
 * notary/Docker environment variables by alias. An env passphrase is offered once per key; if it
 * does not decrypt, the retriever fails with BAD_PASSPHRASE naming the variable (retrying the same
 * constant is pointless). With nothing set it defers to `fallback`, or throws PASSPHRASE_REQUIRED.
 */
export function envPassphraseRetriever(
  env: Record<string, string | undefined>,
  fallback?: PassphraseRetriever,
): PassphraseRetriever {
  return async (req) => {
    const found = await passphraseFromEnv(env, req.alias);
    if (found !== undefined) {
      if (req.attempt > 0 && !req.createNew) {
        throw new SignetError(
          'BAD_PASSPHRASE',
          `the passphrase in ${found.variable} does not decrypt the ${req.alias} key ${shortId(req.keyId)}`,
          { fix: `correct ${found.variable}` },
        );
      }
      return found.passphrase;
    }
    if (fallback !== undefined) return fallback(req);
    throw requiredError(req.alias, req.keyId, 'no passphrase');
  };
}

/** Always the same passphrase (tests, programmatic use). */
export function constantPassphraseRetriever(passphrase: string): PassphraseRetriever {
  return async (req) => {
    if (req.attempt > 0 && !req.createNew) {
      throw new SignetError(
        'BAD_PASSPHRASE',
        `the passphrase does not decrypt the ${req.alias} key ${shortId(req.keyId)}`,
      );
    }
    return passphrase;
  };
}

export interface PromptIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  isTTY: boolean;
}

interface RawModeStream {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/** Reads one line from a stream without echo (raw mode when the stream is a TTY). */
class SecretLineReader {
  private pending = '';
  constructor(private readonly input: NodeJS.ReadableStream) {}

  read(): Promise<string> {
    const input = this.input;
    const tty = input as unknown as RawModeStream;
    const raw = tty.isTTY === true && typeof tty.setRawMode === 'function';
    return new Promise<string>((resolve, reject) => {
      let line = '';
      let done = false;
      const wasRaw = tty.isRaw === true;
      const finish = (err: Error | undefined): void => {
        done = true;
        input.removeListener('data', onData);
        input.removeListener('end', onEnd);
        input.removeListener('error', onError);
        input.pause();
        if (raw) tty.setRawMode?.(wasRaw);
        if (err) reject(err);
        else resolve(line);
      };
      const consume = (s: string): void => {
        for (let i = 0; i < s.length; i++) {
          const c = s[i] as string;
          if (c === '\r' || c === '\n') {
            let rest = s.slice(i + 1);
            if (c === '\r' && rest.startsWith('\n')) rest = rest.slice(1);
            this.pending = rest;
            finish(undefined);
            return;
          }
          if (c === '\u0003') {
            finish(new SignetError('PASSPHRASE_REQUIRED', 'passphrase entry cancelled'));
            return;
          }
          if (raw && (c === '\u007f' || c === '\b')) {
            line = line.slice(0, -1);
            continue;
          }
          if (raw && c === '\u0004') {
            finish(new SignetError('PASSPHRASE_REQUIRED', 'passphrase entry ended (EOF)'));
            return;
          }
          line += c;
        }
      };
      const onData = (chunk: Buffer | string): void => {
        if (!done) consume(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      };
      const onEnd = (): void => {
        if (!done) finish(new SignetError('PASSPHRASE_REQUIRED', 'input closed before a passphrase was entered'));
      };
      const onError = (err: Error): void => {
        if (!done) finish(new SignetError('PASSPHRASE_REQUIRED', 'cannot read the passphrase', { cause: err }));
      };
      if (this.pending !== '') {
        const p = this.pending;
        this.pending = '';
        consume(p);
        if (done) return;
      }
      if (raw) tty.setRawMode?.(true);
      input.on('data', onData);
      input.once('end', onEnd);
      input.once('error', onError);
      input.resume();
    });
  }
}

/**
 * Asks on a terminal (no echo), like notary's prompt retriever: caches per alias, a new passphrase
 * must have ≥ 8 characters and be typed twice. Without a TTY it throws PASSPHRASE_REQUIRED at once.
 */
export function promptPassphraseRetriever(io: PromptIo): PassphraseRetriever {
  const cache = new Map<string, string>();
  const reader = new SecretLineReader(io.input);
  const say = (s: string): void => {
    io.output.write(s);
  };
  const ask = async (prompt: string): Promise<string> => {
    say(prompt);
    const v = await reader.read();
    say('\n');
    return v.trim();
  };
  return async (req) => {
    if (!io.isTTY)
      throw requiredError(req.alias, req.keyId, 'standard input is not a terminal, so there is no passphrase');
    const withId = req.keyId ? ` with ID ${shortId(req.keyId)}` : '';
    if (req.attempt === 0) {
      const cached = cache.get(req.alias);
      if (cached !== undefined) return cached;
    } else if (!req.createNew) {
      if (req.attempt > 3)
        throw new SignetError('BAD_PASSPHRASE', `too many passphrase attempts for the ${req.alias} key`);
      say('Passphrase incorrect. Please retry.\n');
    }
    if (!req.createNew) {
      const p = await ask(`Enter passphrase for ${req.alias} key${withId}: `);
      cache.set(req.alias, p);
      return p;
    }
    if (req.alias === 'root' && req.attempt === 0) {
      say(
        'You are about to create a new root signing key passphrase. It protects the most sensitive key\n' +
          'of the repository: choose a long, random passphrase, keep it in a password manager and back up\n' +
          'the key file. A lost root passphrase cannot be recovered.\n',
      );
    }
    for (let tries = 0; tries < 3; tries++) {
      const p = await ask(`Enter passphrase for new ${req.alias} key${withId}: `);
      if (p.length < MIN_NEW_PASSPHRASE_LENGTH) {
        say(`Passphrase is too short (minimum ${MIN_NEW_PASSPHRASE_LENGTH} characters). Please retry.\n`);
        continue;
      }
      const again = await ask(`Repeat passphrase for new ${req.alias} key${withId}: `);
      if (!sameSecret(again, p)) {
        say('Passphrases do not match. Please retry.\n');
        continue;
      }
      cache.set(req.alias, p);
      return p;
    }
    throw new SignetError('BAD_PASSPHRASE', `no acceptable new passphrase for the ${req.alias} key after 3 tries`);
  };
}

/**
 * Basic auth (`Authorization: Basic`), from one of two sources:
 * - `basic`: users in the config file, each with a bcrypt hash (or the older unsalted SHA-256 digest
 *   docs/server.md documented) and per-repository actions;
 * - `htpasswd`: an htpasswd file of bcrypt entries, the format docker/distribution's registry reads
 *   (D:registry/auth/htpasswd/htpasswd.go accepts bcrypt only), so one file serves both. Every user
 *   in it may do everything; requests without credentials may read (pull) repositories.
 *
 * bcrypt costs milliseconds per check on purpose, and `authorize` is synchronous (the cached GET
 * fast path calls it), so a verified user:password pair is remembered for a while under a keyed
 * hash; wrong passwords are never remembered (the failed-auth backoff in ../limits.ts bounds them).
 */
import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import { SignetError } from '../../errors.js';
import {
  accessRecords,
  goQuote,
  unauthorized,
  type AuthAction,
  type AuthFailure,
  type AuthResult,
  type Authorizer,
} from './common.js';

export interface BasicUser {
  /** bcrypt hash (`$2a$`, `$2b$`, `$2y$`), as `htpasswd -B` writes it */
  passwordBcrypt?: string | undefined;
  /** hex SHA-256 of the password: unsalted, accepted for configs written before bcrypt */
  passwordSha256?: string | undefined;
  /** `<gun>` or `<prefix>*` → actions; `"*": ["*"]` also grants the GUN-less (catalog) routes */
  repositories: Record<string, readonly AuthAction[]>;
}

export interface BasicAuthSettings {
  type: 'basic';
  realm?: string | undefined;
  users: Record<string, BasicUser>;
}

export interface HtpasswdAuthSettings {
  type: 'htpasswd';
  realm?: string | undefined;
  /** the file's name, for messages */
  file: string;
  /** the file's text */
  text: string;
}

const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1000;
const ALL: [string, readonly string[]][] = [['*', ['*']]];

interface Credential {
  check(password: string): boolean;
  /** bcrypt cost (0 for SHA-256 entries) */
  rounds: number;
  repositories: [string, readonly string[]][];
}

/** Whether `pattern` (`<gun>`, `<prefix>*`, `*`) covers the GUN. */
export function repositoryPatternMatches(pattern: string, gun: string): boolean {
  return pattern.endsWith('*') ? gun.startsWith(pattern.slice(0, -1)) : pattern === gun;
}

function bcryptCheck(hash: string): (password: string) => boolean {
  const want = Buffer.from(hash, 'utf8');
  return (password) => {
    const got = Buffer.from(bcrypt.hashSync(password, hash.slice(0, 29)), 'utf8');
    return got.length === want.length && crypto.timingSafeEqual(got, want);
  };
}

function sha256Check(hex: string): (password: string) => boolean {
  const want = Buffer.from(hex, 'hex');
  return (password) => crypto.timingSafeEqual(crypto.createHash('sha256').update(password, 'utf8').digest(), want);
}

/** Parses htpasswd text: `user:$2y$…` lines; blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const hash = colon > 0 ? line.slice(colon + 1) : '';
    if (name === '') throw new SignetError('USAGE', `${file} line ${i + 1} is not "user:hash"`);
    if (!BCRYPT.test(hash)) {
      throw new SignetError(
        'USAGE',
        `${file} line ${i + 1}: the entry of ${JSON.stringify(name)} is not a bcrypt hash; Signet and docker/distribution's registry read only bcrypt entries`,
        { fix: `write it again with bcrypt: htpasswd -B ${file} ${name}` },
      );
    }
    users.set(name, hash);
  });
  return users;
}

function credentials(settings: BasicAuthSettings | HtpasswdAuthSettings): Map<string, Credential> {
  const out = new Map<string, Credential>();
  if (settings.type === 'htpasswd') {
    for (const [name, hash] of parseHtpasswd(settings.text, settings.file))
      out.set(name, { check: bcryptCheck(hash), rounds: bcrypt.getRounds(hash), repositories: ALL });
    return out;
  }
  for (const [name, u] of Object.entries(settings.users)) {
    let check: (password: string) => boolean;
    let rounds = 0;
    if (u.passwordBcrypt !== undefined) {
      if (!BCRYPT.test(u.passwordBcrypt))
        throw new SignetError('USAGE', `auth.users.${name}.passwordBcrypt is not a bcrypt hash ($2y$…)`, {
          fix: 'make one with: htpasswd -nB USER',
        });
      check = bcryptCheck(u.passwordBcrypt);
      rounds = bcrypt.getRounds(u.passwordBcrypt);
    } else if (u.passwordSha256 !== undefined && /^[0-9a-fA-F]{64}$/.test(u.passwordSha256)) {
      check = sha256Check(u.passwordSha256);
    } else {
      throw new SignetError('USAGE', `auth.users.${name} needs passwordBcrypt (or passwordSha256 of 64 hex digits)`, {
        fix: 'make a bcrypt hash with: htpasswd -nB USER',
      });
    }
    out.set(name, { check, rounds, repositories: Object.entries(u.repositories) });
  }
  return out;
}

export function basicAuthorizer(settings: BasicAuthSettings | HtpasswdAuthSettings): Authorizer {
  const users = credentials(settings);
  const anonymousPull = settings.type === 'htpasswd';
  const challenge = `Basic realm=${goQuote(settings.realm ?? 'Signet')}`;
  // a wrong name costs what a wrong password of the costliest entry costs
  const rounds = Math.min(12, Math.max(4, ...[...users.values()].map((u) => u.rounds)));
  const dummy = bcryptCheck(bcrypt.hashSync('signet: no such user', rounds));
  const macKey = crypto.randomBytes(32);
  /** keyed hash of user\0password → verified until (ms) */
  const verified = new Map<string, number>();
  const checkPassword = (name: string, password: string, user: Credential | undefined): boolean => {
    const mac = crypto.createHmac('sha256', macKey).update(`${name}\0${password}`, 'utf8').digest('base64');
    const now = Date.now();
    const until = verified.get(mac);
    if (until !== undefined && until > now && user !== undefined) return true;
    const ok = user === undefined ? (dummy(password), false) : user.check(password);
    if (ok) {
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
      verified.set(mac, now + VERIFIED_TTL_MS);
    }
    return ok;
  };
  return {
    type: settings.type,
    authorize(authorization, gun, actions) {
      const records = accessRecords(gun, actions);
      const fail = (reason: AuthFailure, why: string, user?: string): AuthResult => ({
        ok: false,
        reason,
        user,
        why,
        reply: unauthorized(challenge, records),
      });
      if (authorization === undefined && anonymousPull && gun !== undefined && actions.every((a) => a === 'pull'))
        return { ok: true, user: undefined };
      const m = /^basic +(\S+)$/i.exec(authorization ?? '');
      if (m === null) return fail('token_required', 'basic credentials required');
      const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return fail('bad_credentials', 'malformed basic credentials');
      const name = decoded.slice(0, colon);
      const user = users.get(name);
      if (!checkPassword(name, decoded.slice(colon + 1), user) || user === undefined)
        return fail('bad_credentials', 'unknown user or wrong password', name);
      for (const r of records) {
        const allowed = user.repositories.some(([pattern, acts]) =>
          r.type === 'registry'
            ? pattern === '*' && acts.includes('*')
            : repositoryPatternMatches(pattern, r.name) && (acts.includes('*') || acts.includes(r.action)),
        );
        if (!allowed) return fail('insufficient_scope', `user lacks ${r.type}:${r.name}:${r.action}`, name);
      }
      return { ok: true, user: name };
    },
  };
}

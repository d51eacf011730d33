/**
 * Node ≥ 22.1 keeps V8's compiled code of the modules a command loads on disk
 * (module.enableCompileCache), which cuts a one-shot command's start-up; Node 20 has no such API.
 * Node's default folder is in the OS temp dir, shared by every user: another local user could plant
 * compiled code there that this process would run. So the cache goes in a folder of this user's
 * (`$XDG_CACHE_HOME/signet/compile-cache`, else `~/.cache/signet/compile-cache`), made 0700 and used
 * only when it is a directory owned by this user that nobody else can write. NODE_COMPILE_CACHE, when
 * set, is the user's own choice and is used as is; NODE_DISABLE_COMPILE_CACHE=1 turns the cache off.
 * Read before anything else loads, so it reads the environment itself (config.ts loads much later).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

type EnableCompileCache = (dir?: string) => { directory?: string };

/** The folder the compile cache was enabled in, or undefined (Node 20, disabled, or no safe folder). */
export function enablePrivateCompileCache(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (enable === undefined) return undefined;
  if (env.NODE_COMPILE_CACHE) return enable().directory;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  const dir = path.join(base, 'signet', 'compile-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const uid = process.getuid?.();
    for (const d of [dir, path.dirname(dir)]) {
      const st = lstatSync(d);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    }
  } catch {
    return undefined; // a read-only or missing home: run without the cache
  }
  return enable(dir).directory;
}

/** Filesystem primitives every folder may use: the one atomic write (`atomic.ts`). */
export {
  writeFileAtomic,
  ensurePrivateDir,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  type AtomicWriteOptions,
} from './atomic.js';

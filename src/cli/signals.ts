/** Long-running commands (proxy, admission): the first SIGTERM or SIGINT closes their parts, in order. */
export function closeOnSignal(...closers: Array<() => Promise<void>>): void {
  const stop = (): void => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    void (async () => {
      for (const close of closers) await close();
    })();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * The CLI's signals, the only place tunqos reads them (the runtime takes hooks instead):
 *  - `onSignal(signal, fn)` runs `fn` on each `signal` until the returned function removes it; `run`
 *    uses it for SIGUSR1 → a snapshot of every counter in the log. Note that Node uses SIGUSR1 to
 *    start its inspector when no handler is installed; with this handler installed, use `--inspect`.
 *  - `untilStopSignal(log)` resolves on the first SIGINT or SIGTERM (logged), then stops listening.
 */
import type { Logger } from 'pino';

export function onSignal(signal: NodeJS.Signals, fn: () => void): () => void {
  const handler = (): void => fn();
  process.on(signal, handler);
  return () => {
    process.off(signal, handler);
  };
}

export function untilStopSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const onStop = (sig: NodeJS.Signals): void => {
      log.info({ signal: sig }, 'stopping');
      process.off('SIGINT', onStop);
      process.off('SIGTERM', onStop);
      resolve();
    };
    process.on('SIGINT', onStop);
    process.on('SIGTERM', onStop);
  });
}

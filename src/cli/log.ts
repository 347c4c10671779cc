/**
 * The process logger (pino): JSON lines for machines, pino-pretty when a person is watching.
 *
 * Logs go to stderr, so that stdout carries only what a command prints as its result (`run`'s summary
 * line); they are pretty-printed when stderr is a terminal. Level from $TUNQOS_LOG_LEVEL (default info).
 * Never called per packet (hot-path rule 5): the forwarder counts, the CLI logs the counts.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** force pretty (true) or JSON (false); default: pretty when stderr is a TTY */
  pretty?: boolean;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.TUNQOS_LOG_LEVEL ?? 'info';
  const usePretty = opts.pretty ?? process.stderr.isTTY === true;
  if (usePretty) {
    return pino({ level, base: undefined }, pretty({ destination: 2, sync: true, ignore: 'pid,hostname' }));
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

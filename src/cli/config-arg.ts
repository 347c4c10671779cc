/**
 * The configuration argument of the offline commands (`check`, `classify`): exactly one of
 * `-c FILE` (tc commands) or `--script FILE` (a bash script whose tc calls are recorded), loaded on a
 * fresh TcSystem with its errors printed as `FILE:LINE:COL: message`.
 */
import { type ConfigSource, type LoadedConfig, loadConfig } from '../tc/system';

/** Where a command prints: stdout and stderr (tests pass buffers). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The config source the options name, or null after printing the usage error (the caller exits 2). */
export function configSource(command: string, o: { config?: string; script?: string }, io: CommandIo): ConfigSource | null {
  if (!o.config === !o.script) {
    io.err(`tunqos ${command}: give exactly one of -c FILE or --script FILE\n`);
    return null;
  }
  return o.config ? { file: o.config } : { script: o.script };
}

/** Loads `src`, or returns null after printing why it failed (the caller exits 1). */
export function loadOrReport(src: ConfigSource, io: CommandIo): LoadedConfig | null {
  try {
    return loadConfig(src, { random: Math.random });
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n`);
    return null;
  }
}

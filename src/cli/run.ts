/**
 * `tunqos run`: attach to TUN devices and shape what goes through them until SIGINT/SIGTERM.
 *
 *   tunqos run [-c FILE | --script FILE] [--dev NAME]... [--ingress DEV=TUN]... [--egress tun|raw:IFACE]
 *              [--control PATH] [--metrics HOST:PORT] [--keep-warm TIME|off]
 *
 * Devices: every `--dev NAME` and every device the config names (`dev X` in its tc commands) is a TUN
 * device that is opened (created if absent), set up (`ip link set NAME up txqueuelen 1000`) and read;
 * what is read goes through that device's EGRESS tree (`tc qdisc add dev X root ...`) and is written
 * back into the TUN (the kernel forwards it on) or, with `--egress raw:IFACE`, out of a raw socket
 * bound to IFACE. A device's INGRESS side (`tc qdisc add dev X handle ffff: ingress`, police filters,
 * and in tunqos optionally a full tree under `parent ffff:`) needs its own TUN, because a TUN only
 * carries one direction of a gateway: `--ingress X=TUN` feeds X's ingress side from TUN (whatever is
 * read there is policed/shaped and written back into that TUN). The raw egress applies to egress
 * sides only.
 *
 * All devices share one packet arena and one tc system (src/tc/system.ts): the config is applied
 * atomically before any device opens (an error prints `FILE:LINE:COL: message` and exits 1, nothing
 * opened), and live `tunqos tc ...` commands over the control socket change the running trees (each
 * forwarder is kicked after a change so a new tree releases what it may at once).
 *
 * Keep-warm (`--keep-warm`, default 1ms; src/forwarder/wakeup.ts explains it): while a link has seen packets
 * in the last second, its forwarder wakes at least that often, so a lone packet finds the path warm.
 *
 * On a signal: stop every forwarder, close the devices and print ONE summary line on stdout
 * (packets, bytes, drops by reason). Logs go to stderr (src/cli/log.ts). SIGUSR1 logs a snapshot of
 * every counter.
 *
 * Exit codes: 0 after a clean stop; 1 when the config is wrong or a device cannot be opened (in use:
 * EBUSY; invalid name; no permission) or the control socket/metrics cannot start; 2 for a usage error.
 *
 * This file parses the options and waits for signals; the shaper itself is put together by
 * src/runtime/runtime.ts (startRuntime), which tests and benchmarks can also start in-process.
 */
import type { Command } from 'commander';
import { defaultControlPath } from '../control/socket';
import type { ConfigSource } from '../tc/system';
import { parseTime } from '../time/units';
import { DEFAULT_KEEP_WARM_NS, type Egress, RunOptionsError, type Runtime, startRuntime } from '../runtime/runtime';
import { createLogger } from './log';
import { onSignal, untilStopSignal } from './signals';

export { DEFAULT_KEEP_WARM_NS };

/** `--keep-warm` values: a tc time (`1ms`, `500us`; bare numbers are µs as in tc) or `off`/`0`. */
export function parseKeepWarm(text: string): number {
  if (text === 'off' || text === '0') return 0;
  const ns = parseTime(text);
  if (!Number.isFinite(ns) || ns < 0) throw new UsageError(`--keep-warm must be a time such as 1ms or 500us, or "off"; got "${text}"`);
  if (ns > 0 && (ns < 100e3 || ns > 1e9)) throw new UsageError(`--keep-warm must lie between 100us and 1s (or be "off"); got "${text}"`);
  return ns;
}

export function parseEgress(spec: string): Egress {
  if (spec === 'tun') return { kind: 'tun' };
  if (spec.startsWith('raw:') && spec.length > 4) return { kind: 'raw', iface: spec.slice(4) };
  throw new UsageError(`--egress must be "tun" or "raw:IFACE", got "${spec}"`);
}

/** `--ingress DEV=TUN` values into a map; a usage error names the bad value. */
export function parseIngress(specs: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new UsageError(`--ingress must be DEV=TUN (e.g. tqup=tqdn), got "${spec}"`);
    const dev = spec.slice(0, eq);
    if (m.has(dev)) throw new UsageError(`--ingress ${dev}=... is given twice`);
    m.set(dev, spec.slice(eq + 1));
  }
  return m;
}

export class UsageError extends Error {}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('attach to TUN devices and shape what goes through them until SIGINT/SIGTERM')
    .option('--dev <name>', 'TUN device to attach to (created if absent); repeat for several', collect, [] as string[])
    .option('--ingress <dev=tun>', "feed device DEV's ingress side (ffff:) from TUN; repeatable", collect, [] as string[])
    .option('--egress <tun|raw:IFACE>', 'write packets back into the TUN, or out of a raw socket bound to IFACE', 'tun')
    .option('-c, --config <file>', 'file of tc commands applied at start (atomically)')
    .option('--script <file>', 'bash script whose tc commands are recorded and applied at start')
    .option('--control <path>', `control socket for live \`tunqos tc ...\` (default ${defaultControlPath()})`)
    .option('--metrics <host:port>', 'serve Prometheus metrics on HOST:PORT (PORT alone: 127.0.0.1)')
    .option('--no-warmup', 'skip the JIT warm-up at start (only to measure what it buys)')
    .option(
      '--keep-warm <time|off>',
      'while traffic is sparse (packets seen in the last second), wake at least this often so the next packet finds caches warm',
      '1ms',
    )
    .action(
      async (o: {
        dev: string[];
        ingress: string[];
        egress: string;
        config?: string;
        script?: string;
        control?: string;
        metrics?: string;
        warmup: boolean;
        keepWarm: string;
      }) => {
        const log = createLogger();
        let rt: Runtime;
        try {
          if (o.config && o.script) throw new UsageError('give either -c FILE or --script FILE, not both');
          const egress = parseEgress(o.egress);
          const keepWarm = parseKeepWarm(o.keepWarm);
          const ingress = parseIngress(o.ingress);
          const config: ConfigSource | undefined = o.config ? { file: o.config } : o.script ? { script: o.script } : undefined;
          rt = await startRuntime(
            { devs: o.dev, egress, config, ingress, control: o.control, metrics: o.metrics, warmup: o.warmup, keepWarm, random: Math.random },
            { snapshotTrigger: (logSnapshot) => onSignal('SIGUSR1', logSnapshot) },
            log,
          );
        } catch (e) {
          process.stderr.write(`tunqos run: ${(e as Error).message}\n`);
          process.exitCode = e instanceof UsageError || e instanceof RunOptionsError ? 2 : 1;
          return;
        }
        await untilStopSignal(log);
        await rt.stop();
        process.stdout.write(`${rt.summary()}\n`);
      },
    );
}

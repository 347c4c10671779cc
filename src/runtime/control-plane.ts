/**
 * The control plane of a running shaper, started after its forwarders: the 1 s rate sampler (what
 * `tc -s` prints as rates), the snapshot trigger (the CLI's SIGUSR1), the control socket for live
 * `tunqos tc ...` and, when asked for, the Prometheus metrics server. Each piece registers its own
 * undo with `rt.onStop`, so a start-up that fails half-way releases what it opened.
 */
import { startMetricsServer, type MetricsServer } from '../control/metrics';
import { defaultControlPath, startControlServer, type ControlServer } from '../control/socket';
import { logSnapshot, sampleRates } from '../control/stats-log';
import type { SideProvider } from '../control/tree';
import type { Runtime, RunOptions, RuntimeHooks } from './runtime';

/** control socket, metrics, the 1 s rate sampler and the snapshot trigger */
export async function startControlPlane(rt: Runtime, opts: RunOptions, hooks: RuntimeHooks): Promise<void> {
  const provider: SideProvider = () => rt.sides();
  const sampler = setInterval(() => sampleRates(provider, rt.clock.now()), 1000);
  sampler.unref();
  rt.onStop(() => clearInterval(sampler));
  if (hooks.snapshotTrigger) rt.onStop(hooks.snapshotTrigger(() => logSnapshot(rt.log, provider)));

  const path = opts.control ?? defaultControlPath();
  let control: ControlServer;
  try {
    control = await startControlServer({ path, handler: async (argv) => rt.execute(argv) });
  } catch (e) {
    if (opts.control !== undefined) throw e;
    // The default path is a convenience: a second shaper on this machine still runs, without it.
    rt.log.warn({ path }, `no control socket: ${(e as Error).message}`);
    return startMetrics(rt, opts, provider);
  }
  rt.onStop(() => control.close());
  rt.log.info({ path }, `control socket ready: tunqos tc${opts.control ? ` --control ${path}` : ''} ...`);
  await startMetrics(rt, opts, provider);
}

async function startMetrics(rt: Runtime, opts: RunOptions, provider: SideProvider): Promise<void> {
  if (opts.metrics === undefined) return;
  const m: MetricsServer = await startMetricsServer(opts.metrics, provider);
  rt.onStop(() => m.close());
  rt.log.info({ url: m.url }, 'metrics ready');
}

/**
 * `tunqos gateway`: the namespace testbed (src/testbed/topology.ts) by hand: the client, gateway and
 * server namespaces a shaper is tried in. The command keeps its name, `gateway`, the namespace in
 * the middle where a shaper runs; the module is named for what it drives, the testbed.
 *
 *   tunqos gateway up [--mode kernel|tun|raw] [--both]   build it, print how to use it, wait for Ctrl-C,
 *                                                        remove everything
 *   tunqos gateway sweep [--force]                       remove namespaces left by crashed runs
 */
import type { Command } from 'commander';
import { createTopology, sweep, type TopologyMode } from '../testbed/topology';
import { TUNQOS_BIN } from '../testbed/tunqos-process';

export function registerTestbed(program: Command): void {
  const gw = program.command('gateway').description('client/gateway/server network namespaces for trying tunqos (root)');

  gw.command('up')
    .description('build the topology, print its names, keep it until SIGINT/SIGTERM, then remove it')
    .option('--mode <mode>', 'kernel (plain forwarding), tun or raw (client→server routed into the TUN)', 'tun')
    .option('--both', 'also route server→client through a second TUN (tqdn)', false)
    .action(async (o: { mode: string; both: boolean }) => {
      if (!['kernel', 'tun', 'raw'].includes(o.mode)) {
        process.stderr.write(`tunqos gateway up: --mode must be kernel, tun or raw, got "${o.mode}"\n`);
        process.exitCode = 2;
        return;
      }
      let topo;
      try {
        topo = createTopology({ mode: o.mode as TopologyMode, directions: o.both ? 'both' : 'up' });
      } catch (e) {
        process.stderr.write(`tunqos gateway up: ${(e as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const devs = topo.tuns.map((d) => `--dev ${d}`).join(' ');
      const egress = o.mode === 'raw' ? `raw:${topo.rawEgress}` : 'tun';
      process.stdout.write(
        [
          `namespaces: client ${topo.ns.client} (${topo.addr.client}), gateway ${topo.ns.gateway}, server ${topo.ns.server} (${topo.addr.server})`,
          `TUN devices in the gateway: ${topo.tuns.join(', ')}${topo.isDiverted ? '' : ' (not in the path: mode kernel)'}`,
          `forward:  ip netns exec ${topo.ns.gateway} node ${TUNQOS_BIN} run ${devs} --egress ${egress}`,
          `server:   ip netns exec ${topo.ns.server} iperf3 -s`,
          `client:   ip netns exec ${topo.ns.client} iperf3 -c ${topo.addr.server}`,
          'Ctrl-C removes everything.',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        // Signal listeners alone do not keep Node's event loop alive; this timer does.
        const keepAlive = setInterval(() => {}, 1 << 30);
        const done = (): void => {
          clearInterval(keepAlive);
          process.off('SIGINT', done);
          process.off('SIGTERM', done);
          resolve();
        };
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      });
      topo.destroy();
      process.stdout.write(`removed ${Object.values(topo.ns).join(' ')}\n`);
    });

  gw.command('sweep')
    .description('remove topology namespaces whose creating process is gone (all of them with --force)')
    .option('--force', 'also remove namespaces of live processes', false)
    .action((o: { force: boolean }) => {
      const removed = sweep(undefined, o.force);
      process.stdout.write(removed.length ? `removed ${removed.join(' ')}\n` : 'nothing to remove\n');
    });
}

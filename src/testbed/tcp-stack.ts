/**
 * The TCP stacks of a topology's endpoints, set per namespace for a test: ECN negotiation, and
 * MTU-sized sends so that the kernel shaper and tunqos see the same packets.
 */
import type { Topology } from './topology';

/** Turns TCP ECN negotiation on (1) or off (0) in a namespace (per-namespace sysctl). */
export function setTcpEcn(topo: Topology, where: 'client' | 'server', value: 0 | 1 | 2): void {
  topo.exec(where, ['sysctl', '-qw', `net.ipv4.tcp_ecn=${value}`]);
}

/**
 * Makes the client (and server) TCP stacks send MTU-sized packets (`gso_max_segs 1` on their veth).
 * Without it a TSO super-packet of up to 64 KB crosses the veth into the gateway intact, and the
 * kernel's HTB there charges it as one lump (its rate becomes coarse at a few mbit), while a TUN
 * always hands tunqos single packets. With it, both shapers see the same packets.
 */
export function mtuSizedSends(topo: Topology): void {
  topo.exec('client', ['ip', 'link', 'set', 'dev', topo.ifaces.client, 'gso_max_segs', '1']);
  topo.exec('server', ['ip', 'link', 'set', 'dev', topo.ifaces.server, 'gso_max_segs', '1']);
}

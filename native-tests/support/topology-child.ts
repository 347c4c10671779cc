/**
 * A separate process that builds a topology, prints its namespace names as one JSON line, and waits
 * to be signalled. The tests kill it with SIGINT/SIGTERM (its handlers must tear down) or SIGKILL
 * (nothing runs: sweep must clean up after it). Run with: node --import tsx topology-child.ts [mode]
 */
import { createTopology, type TopologyMode } from '../../src/testbed/topology';

const mode = (process.argv[2] ?? 'tun') as TopologyMode;
const topo = createTopology({ mode, directions: 'both' });
// Something running inside a namespace, as a forwarder would be.
topo.spawnInGateway(['sleep', '300'], { stdio: 'ignore' });
process.stdout.write(`${JSON.stringify({ ns: topo.ns, pid: process.pid })}\n`);
setInterval(() => {}, 1 << 30);

/**
 * Prometheus metrics: the `tc -s` counters of every qdisc and class, and sojourn-time histograms,
 * served over HTTP at `/metrics` when `tunqos run --metrics HOST:PORT` asks for it.
 *
 * Collection happens on scrape and only then: each metric walks the live trees from the provider
 * (src/control/tree.ts) and reads QdiscStats through the Qdisc contract. Nothing is touched per packet
 * except the SojournHistogram counts the forwarder bumps (src/control/sojourn.ts). Because rows are
 * rebuilt on every scrape, a deleted class simply disappears; there are no stale label sets.
 *
 * Exported families (all carry `dev` and `direction`):
 *  - tunqos_qdisc_*{kind,handle,parent} and tunqos_class_*{kind,class,parent}: sent bytes/packets,
 *    drops by `reason` (DROP_REASON_NAMES, plus `other` for drops counted without a reason),
 *    overlimits, requeues (counters); backlog bytes, qlen packets, estimated rates (gauges).
 *  - tunqos_sojourn_seconds{class}: per-class histogram of dequeue time − enqueue time.
 *  - The tutorial's names (seeds.md §5.1), one row per terminal queue (a class whose leaf is classless,
 *    or a classless root), so sums over `class` count each packet once:
 *    qos_packets_total{class,direction}, qos_packet_drops_total{class,reason}, qos_queue_depth{class},
 *    qos_latency_seconds{class} (the same sojourn data). Classes are labelled as tc prints them (`1:10`).
 *    Drops a classful root makes before any class (classification, HTB's direct queue) are only in
 *    tunqos_qdisc_drops_total of that root.
 *
 * prom-client has no way to set a histogram's buckets from outside, so every family here is a small
 * custom collector that returns its samples on `get()`, which prom-client's Registry accepts.
 */
import { type Server, createServer } from 'node:http';
import { type Metric, Registry } from 'prom-client';
import { type Qdisc, formatHandle } from '../qdisc/qdisc';
import { DROP_REASON_NAMES, type QdiscStats } from '../qdisc/stats';
import type { SojournHistogram } from './sojourn';
import { type ShapedSide, type SideProvider, forEachQueue, parentLabel, walkTree } from './tree';

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricKind = 'counter' | 'gauge' | 'histogram';

/** A metric family whose samples are computed when scraped. */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricKind,
    private readonly read: () => Sample[],
  ) {}
  async get(): Promise<{ name: string; help: string; type: MetricKind; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.read() };
  }
  reset(): void {}
}

/** Per-node rows: one stats object with its labels. */
interface StatsRow {
  labels: Labels;
  stats: QdiscStats;
}

function qdiscRows(provider: SideProvider): StatsRow[] {
  const rows: StatsRow[] = [];
  for (const side of provider()) {
    walkTree(side.tree.root, {
      qdisc: (q) => rows.push({ labels: { dev: side.dev, direction: side.direction, kind: q.kind, handle: formatHandle(q.handle), parent: parentLabel(q.parent) }, stats: q.stats }),
      cls: () => {},
    }, side.classesOf);
  }
  return rows;
}

function classRows(provider: SideProvider): StatsRow[] {
  const rows: StatsRow[] = [];
  for (const side of provider()) {
    walkTree(side.tree.root, {
      qdisc: () => {},
      cls: (c, owner) =>
        rows.push({ labels: { dev: side.dev, direction: side.direction, kind: owner.kind, class: formatHandle(c.classid), parent: formatHandle(c.parentid) }, stats: c.stats }),
    }, side.classesOf);
  }
  return rows;
}

/** Terminal queues for the tutorial's families: labels {dev, direction, class} and the leaf qdisc. */
function queueRows(provider: SideProvider): Array<{ labels: Labels; leaf: Qdisc }> {
  const rows: Array<{ labels: Labels; leaf: Qdisc }> = [];
  for (const side of provider()) {
    forEachQueue(side.tree.root, side.classesOf, (label, leaf) => rows.push({ labels: { dev: side.dev, direction: side.direction, class: label }, leaf }));
  }
  return rows;
}

/** Drops by reason; drops counted without a reason (stats.drops++ alone) appear as `other`. */
function dropSamples(labels: Labels, stats: QdiscStats): Sample[] {
  const out: Sample[] = [];
  let byReason = 0;
  for (let r = 0; r < DROP_REASON_NAMES.length; r++) {
    const v = stats.dropsByReason[r];
    byReason += v;
    out.push({ labels: { ...labels, reason: DROP_REASON_NAMES[r] }, value: v });
  }
  if (stats.drops > byReason) out.push({ labels: { ...labels, reason: 'other' }, value: stats.drops - byReason });
  return out;
}

/** Label of a sojourn histogram's class: its classid, or the root's handle for a classless root (0). */
function sojournClassLabel(side: ShapedSide, classid: number): string {
  return formatHandle(classid === 0 ? side.tree.root.handle : classid);
}

function histogramSamples(name: string, labels: Labels, h: SojournHistogram): Sample[] {
  const out: Sample[] = [];
  const cum = h.cumulative();
  for (let i = 0; i < h.boundsSeconds.length; i++) out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: h.boundsSeconds[i] }, value: cum[i] });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum / 1e9 });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
  return out;
}

function sojournSamples(provider: SideProvider, name: string): Sample[] {
  const out: Sample[] = [];
  for (const side of provider()) {
    if (!side.sojourn) continue;
    for (const [classid, h] of side.sojourn.entries()) {
      out.push(...histogramSamples(name, { dev: side.dev, direction: side.direction, class: sojournClassLabel(side, classid) }, h));
    }
  }
  return out;
}

/** The per-node families (same set for qdiscs and classes). */
function nodeFamilies(prefix: string, what: string, rows: () => StatsRow[]): ScrapedMetric[] {
  const simple = (name: string, help: string, type: MetricKind, pick: (s: QdiscStats) => number): ScrapedMetric =>
    new ScrapedMetric(`${prefix}_${name}`, help, type, () => rows().map((r) => ({ labels: r.labels, value: pick(r.stats) })));
  return [
    simple('sent_bytes_total', `Bytes sent (dequeued) by each ${what}, as tc -s shows them`, 'counter', (s) => s.bytes),
    simple('sent_packets_total', `Packets sent (dequeued) by each ${what}`, 'counter', (s) => s.packets),
    new ScrapedMetric(`${prefix}_drops_total`, `Packets dropped by each ${what}, by reason`, 'counter', () => rows().flatMap((r) => dropSamples(r.labels, r.stats))),
    simple('overlimits_total', `Times each ${what} was over its limit (throttled or shaped)`, 'counter', (s) => s.overlimits),
    simple('requeues_total', `Packets requeued by each ${what}`, 'counter', (s) => s.requeues),
    simple('backlog_bytes', `Bytes queued in each ${what}`, 'gauge', (s) => s.backlog),
    simple('qlen_packets', `Packets queued in each ${what} (queue depth)`, 'gauge', (s) => s.qlen),
    simple('rate_bytes_per_second', `Estimated send rate of each ${what} (EWMA of 1 s samples)`, 'gauge', (s) => s.rate.bps),
    simple('rate_packets_per_second', `Estimated packet rate of each ${what} (EWMA of 1 s samples)`, 'gauge', (s) => s.rate.pps),
  ];
}

export interface MetricsOptions {
  /** register into this registry (e.g. one that also holds prom-client's default metrics) */
  registry?: Registry;
}

/** A registry holding every tunqos family, read from `provider` on each scrape. */
export function createMetricsRegistry(provider: SideProvider, opts: MetricsOptions = {}): Registry {
  const registry = opts.registry ?? new Registry();
  const families: ScrapedMetric[] = [
    ...nodeFamilies('tunqos_qdisc', 'qdisc', () => qdiscRows(provider)),
    ...nodeFamilies('tunqos_class', 'class', () => classRows(provider)),
    new ScrapedMetric('tunqos_sojourn_seconds', 'Time packets spent queued (dequeue - enqueue), by class', 'histogram', () =>
      sojournSamples(provider, 'tunqos_sojourn_seconds'),
    ),
    // The tutorial's names (seeds.md §5.1).
    new ScrapedMetric('qos_packets_total', 'Total packets by QoS class', 'counter', () =>
      queueRows(provider).map((r) => ({ labels: r.labels, value: r.leaf.stats.packets })),
    ),
    new ScrapedMetric('qos_packet_drops_total', 'Dropped packets by QoS class', 'counter', () =>
      queueRows(provider).flatMap((r) => dropSamples(r.labels, r.leaf.stats)),
    ),
    new ScrapedMetric('qos_queue_depth', 'Current queue depth by class', 'gauge', () =>
      queueRows(provider).map((r) => ({ labels: r.labels, value: r.leaf.stats.qlen })),
    ),
    new ScrapedMetric('qos_latency_seconds', 'Queueing latency (sojourn time) by QoS class', 'histogram', () =>
      sojournSamples(provider, 'qos_latency_seconds'),
    ),
  ];
  // prom-client types registerMetric() with its own classes; at run time it only needs name, type and get().
  for (const f of families) registry.registerMetric(f as unknown as Metric);
  return registry;
}

/**
 * `--metrics` address: `PORT` binds 127.0.0.1 (metrics stay local unless asked), `HOST:PORT`,
 * `[V6]:PORT`, or `:PORT` for every interface.
 */
export function parseListenAddress(spec: string): { host: string; port: number } {
  const s = spec.trim();
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (/^\d+$/.test(s)) {
    host = '127.0.0.1';
    portText = s;
  } else if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const m = /^([^:]*):(\d+)$/.exec(s);
    if (!m) throw new Error(`invalid --metrics address "${spec}" (expected PORT, HOST:PORT or [IPV6]:PORT, e.g. 9464 or 0.0.0.0:9464)`);
    host = m[1] === '' ? '0.0.0.0' : m[1];
    portText = m[2];
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535) throw new Error(`invalid --metrics port "${portText}" in "${spec}" (0..65535)`);
  return { host, port };
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** Serves `registry` (or a new one over `provider`) at http://HOST:PORT/metrics. */
export async function startMetricsServer(listen: string, provider: SideProvider, opts: MetricsOptions = {}): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(listen);
  const registry = createMetricsRegistry(provider, opts);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: Error) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`tunqos: metrics collection failed: ${err.message}\n`);
        },
      );
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('tunqos: metrics at /metrics\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found; metrics are at /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`cannot serve metrics on ${listen}: ${err.message}`)));
    server.listen(port, host, () => resolve());
  });
  server.on('error', () => {}); // a later socket error must not take the gateway down
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port: actualPort,
    url: `http://${urlHost}:${actualPort}/metrics`,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

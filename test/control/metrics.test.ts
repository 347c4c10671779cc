import { afterEach, describe, expect, it } from 'vitest';
import { type MetricsServer, createMetricsRegistry, parseListenAddress, startMetricsServer } from '../../src/control/metrics';
import { SojournHistogram, SojournTable } from '../../src/control/sojourn';
import type { ShapedSide } from '../../src/control/tree';
import { Arena } from '../../src/packet/arena';
import { createQdiscEnv } from '../../src/qdisc/env';
import { Fifo } from '../../src/qdisc/fifo';
import { TC_H_INGRESS, type Qdisc, tcHandle } from '../../src/qdisc/qdisc';
import { DROP_REASON_NAMES, DropReason } from '../../src/qdisc/stats';
import { ManualClock, NS_PER_MS, NS_PER_US } from '../../src/time/clock';
import { makePacket } from '../support/packets';
import { FakePrio, parseExposition } from './fake-tree';
import { seededRandom } from '../../src/qdisc/env';

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Enqueues like the forwarder: stamp enqTime, offer to the root. */
function offer(arena: Arena, root: Qdisc, clock: ManualClock, classid: number, size: number): void {
  const pkt = makePacket(arena, { size });
  arena.classid[pkt] = classid;
  arena.enqTime[pkt] = clock.now();
  root.enqueue(pkt, clock.now());
}

/** Dequeues like the forwarder: observe the sojourn, free the slot. */
function drain(arena: Arena, root: Qdisc, clock: ManualClock, sojourn: SojournTable, n: number): void {
  for (let i = 0; i < n; i++) {
    const pkt = root.dequeue(clock.now());
    if (pkt < 0) return;
    sojourn.observe(arena.classid[pkt], clock.now() - arena.enqTime[pkt]);
    arena.free(pkt);
  }
}

async function scrape(s: MetricsServer): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(s.url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

describe('SojournHistogram', () => {
  it('counts each observation in the first bucket whose bound it does not exceed (le is inclusive)', () => {
    const h = new SojournHistogram([0.001, 0.01, 0.1]);
    const ms = [0, 0.5, 1, 1.000001, 10, 50, 100, 100.5, 5000];
    for (const v of ms) h.observe(v * NS_PER_MS);
    // ≤1 ms: 0, 0.5, 1 | ≤10 ms: 1.000001, 10 | ≤100 ms: 50, 100 | +Inf: 100.5, 5000
    expect([...h.counts]).toEqual([3, 2, 2, 2]);
    expect(h.cumulative()).toEqual([3, 5, 7, 9]);
    expect(h.count).toBe(9);
    expect(h.sum).toBeCloseTo(ms.reduce((a, b) => a + b, 0) * NS_PER_MS, 3);
  });

  it('counts a negative or NaN sojourn (clock trouble) as zero instead of corrupting the sum', () => {
    const h = new SojournHistogram([0.001]);
    h.observe(-5);
    h.observe(NaN);
    expect([...h.counts]).toEqual([2, 0]);
    expect(h.sum).toBe(0);
  });

  it('rejects buckets that are not increasing', () => {
    expect(() => new SojournHistogram([0.01, 0.005])).toThrow(/increasing/);
    expect(() => new SojournTable([])).toThrow(/at least one/);
  });
});

describe('metrics over HTTP', () => {
  it('exports counters equal to the qdisc and class stats of a live tree, and the sojourn histograms', async () => {
    const arena = new Arena(64);
    const clock = new ManualClock(1_000 * NS_PER_MS);
    // egress: prio-like root 1: with bands 1:1 (limit 3) and 1:2 (limit 10); ingress: a bare pfifo 2:
    const root = new FakePrio(tcHandle(1, 0), arena, [3, 10]);
    const c1 = tcHandle(1, 1);
    const c2 = tcHandle(1, 2);
    const ingress = new Fifo('pfifo', tcHandle(2, 0), createQdiscEnv(arena, seededRandom(1)), { limit: 1 });
    ingress.parent = TC_H_INGRESS;
    const sojournE = new SojournTable();
    const sojournI = new SojournTable();
    const links: ShapedSide[] = [
      { dev: 'tq0', direction: 'egress', tree: { root }, sojourn: sojournE },
      { dev: 'tq0', direction: 'ingress', tree: { root: ingress }, sojourn: sojournI },
    ];

    for (let i = 0; i < 5; i++) offer(arena, root, clock, c1, 200); // 3 queued, 2 tail-dropped
    for (let i = 0; i < 4; i++) offer(arena, root, clock, c2, 1000);
    clock.advance(3 * NS_PER_MS);
    drain(arena, root, clock, sojournE, 4); // band 1:1 first (strict priority): 3 × 200 B, then one 1000 B
    clock.advance(40 * NS_PER_MS);
    drain(arena, root, clock, sojournE, 1); // a 1:2 packet after 43 ms
    offer(arena, ingress, clock, 0, 60);
    offer(arena, ingress, clock, 0, 60); // limit 1: dropped
    clock.advance(200 * NS_PER_US);
    drain(arena, ingress, clock, sojournI, 1);

    const server = await startMetricsServer('127.0.0.1:0', () => links);
    servers.push(server);
    expect(server.port).toBeGreaterThan(0);
    const m = await scrape(server);

    // What the scenario implies, computed by hand: 5 sent = 3×200 + 2×1000 bytes, 2 drops, 2 left in 1:2.
    const rootSel = { dev: 'tq0', direction: 'egress', handle: '1:', kind: 'prio', parent: 'root' };
    expect(m.value('tunqos_qdisc_sent_packets_total', rootSel)).toBe(5);
    expect(m.value('tunqos_qdisc_sent_bytes_total', rootSel)).toBe(3 * 200 + 2 * 1000);
    expect(m.value('tunqos_qdisc_drops_total', { ...rootSel, reason: 'queue_full' })).toBe(2);
    expect(m.value('tunqos_qdisc_qlen_packets', rootSel)).toBe(2);
    expect(m.value('tunqos_qdisc_backlog_bytes', rootSel)).toBe(2000);
    // and they are the qdisc's own counters
    expect(m.value('tunqos_qdisc_sent_bytes_total', rootSel)).toBe(root.stats.bytes);
    expect(m.value('tunqos_qdisc_overlimits_total', rootSel)).toBe(root.stats.overlimits);

    // leaves are labelled with handle 0: and their parent class, as tc prints `qdisc pfifo 0: parent 1:1`
    const leaf1 = { direction: 'egress', handle: '0:', parent: '1:1', kind: 'pfifo' };
    expect(m.value('tunqos_qdisc_sent_packets_total', leaf1)).toBe(3);
    expect(m.value('tunqos_qdisc_drops_total', { ...leaf1, reason: 'queue_full' })).toBe(2);
    for (const r of DROP_REASON_NAMES.filter((n) => n !== 'queue_full')) {
      expect(m.value('tunqos_qdisc_drops_total', { ...leaf1, reason: r })).toBe(0);
    }

    // classes, as `tc -s class show` would list them
    for (const band of root.bands) {
      const sel = { direction: 'egress', class: band.classid === c1 ? '1:1' : '1:2', parent: '1:', kind: 'prio' };
      expect(m.value('tunqos_class_sent_packets_total', sel)).toBe(band.stats.packets);
      expect(m.value('tunqos_class_sent_bytes_total', sel)).toBe(band.stats.bytes);
      expect(m.value('tunqos_class_qlen_packets', sel)).toBe(band.stats.qlen);
      expect(m.value('tunqos_class_drops_total', { ...sel, reason: 'queue_full' })).toBe(band.stats.dropsByReason[DropReason.QueueFull]);
    }
    expect(m.value('tunqos_class_sent_packets_total', { class: '1:2' })).toBe(2);

    // the tutorial's names: one row per terminal queue
    expect(m.value('qos_packets_total', { class: '1:1', direction: 'egress' })).toBe(3);
    expect(m.value('qos_packets_total', { class: '1:2', direction: 'egress' })).toBe(2);
    expect(m.value('qos_packet_drops_total', { class: '1:1', reason: 'queue_full' })).toBe(2);
    expect(m.value('qos_queue_depth', { class: '1:1' })).toBe(0);
    expect(m.value('qos_queue_depth', { class: '1:2' })).toBe(2);
    // the classless ingress root is its own queue, labelled by its handle
    expect(m.value('qos_packets_total', { class: '2:', direction: 'ingress' })).toBe(1);
    expect(m.value('qos_packet_drops_total', { class: '2:', reason: 'queue_full' })).toBe(1);
    expect(m.value('tunqos_qdisc_sent_packets_total', { handle: '2:', parent: 'ingress' })).toBe(1);
    // sums over class count each packet once (no inner class double counting)
    const sent = m.samples.filter((s) => s.name === 'qos_packets_total' && s.labels.direction === 'egress').reduce((a, s) => a + s.value, 0);
    expect(sent).toBe(root.stats.packets);

    // sojourn: 1:1 saw 3 × 3 ms; 1:2 saw 3 ms and 43 ms; ingress 0.2 ms
    for (const name of ['qos_latency_seconds', 'tunqos_sojourn_seconds']) {
      const b = (cls: string, le: string) => m.value(`${name}_bucket`, { class: cls, le });
      expect(b('1:1', '0.0025')).toBe(0);
      expect(b('1:1', '0.005')).toBe(3);
      expect(b('1:1', '+Inf')).toBe(3);
      expect(b('1:2', '0.005')).toBe(1);
      expect(b('1:2', '0.025')).toBe(1);
      expect(b('1:2', '0.05')).toBe(2);
      expect(m.value(`${name}_count`, { class: '1:2' })).toBe(2);
      expect(m.value(`${name}_sum`, { class: '1:2' })).toBeCloseTo(0.003 + 0.043, 9);
      expect(b('2:', '0.00025')).toBe(1);
      expect(b('2:', '0.0001')).toBe(0);
    }
  });

  it('reflects changes between scrapes and drops rows of classes that are gone', async () => {
    const arena = new Arena(16);
    const clock = new ManualClock();
    let root: Qdisc = new FakePrio(tcHandle(1, 0), arena, [5, 5]);
    const server = await startMetricsServer('0', () => [{ dev: 'tq0', direction: 'egress', tree: { root } }]);
    servers.push(server);
    expect(server.host).toBe('127.0.0.1');
    let m = await scrape(server);
    expect(m.value('qos_packets_total', { class: '1:2' })).toBe(0);
    offer(arena, root, clock, tcHandle(1, 2), 100);
    m = await scrape(server);
    expect(m.value('qos_queue_depth', { class: '1:2' })).toBe(1);
    root = new Fifo('bfifo', tcHandle(3, 0), createQdiscEnv(arena, seededRandom(1))); // `tc qdisc replace`
    m = await scrape(server);
    expect(m.samples.some((s) => s.labels.class === '1:2')).toBe(false);
    expect(m.value('tunqos_qdisc_sent_packets_total', { handle: '3:', kind: 'bfifo' })).toBe(0);
  });

  it('answers 404 off /metrics and registers into a caller-supplied registry', async () => {
    const server = await startMetricsServer('127.0.0.1:0', () => []);
    servers.push(server);
    expect((await fetch(server.url.replace('/metrics', '/nope'))).status).toBe(404);
    const reg = createMetricsRegistry(() => []);
    expect(reg.getSingleMetric('qos_latency_seconds')).toBeDefined();
  });
});

describe('parseListenAddress', () => {
  it('binds loopback for a bare port and understands HOST:PORT, [V6]:PORT and :PORT', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:9100')).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(parseListenAddress('[::1]:9100')).toEqual({ host: '::1', port: 9100 });
    expect(parseListenAddress(':9100')).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(() => parseListenAddress('localhost')).toThrow(/invalid --metrics address "localhost"/);
    expect(() => parseListenAddress('70000')).toThrow(/0\.\.65535/);
  });
});

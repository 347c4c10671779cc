/**
 * The native addon against the real kernel (root): TUN open/EBUSY/invalid name/close, a packet each
 * way through readBatch/writeBatch, and the timerfd timer.
 *
 * Everything that creates a network device runs inside a fresh namespace `tq-addon-<pid>`, through
 * child processes (`ip netns exec NS node support/addon-child.cjs MODE NAME`: Node cannot setns itself). The namespace is deleted
 * in afterAll and on SIGINT/SIGTERM, which removes every device with it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Forwarder } from '../src/forwarder/forwarder';
import { MemoryLink } from '../src/link/memory';
import { TimerfdTimer } from '../src/link/timerfd';
import { Arena } from '../src/packet/arena';
import { QdiscBase } from '../src/qdisc/base';
import { createQdiscEnv, seededRandom } from '../src/qdisc/env';
import { XMIT_SUCCESS } from '../src/qdisc/qdisc';
import { PacketRing } from '../src/qdisc/ring';
import { MonotonicClock, type Nanos } from '../src/time/clock';
import { synthPacket } from '../src/packet/synth';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADDON = join(ROOT, 'build', 'Release', 'tunqos_native.node');
const NS = `tq-addon-${process.pid}`;
const isRoot = process.getuid?.() === 0;

/** The child program (plain CommonJS, the addon required by path; it prints JSON lines): support/addon-child.cjs */
const CHILD = join(ROOT, 'native-tests', 'support', 'addon-child.cjs');

function nsChild(args: string[]): string[] {
  return ['netns', 'exec', NS, process.execPath, CHILD, ...args];
}

function runChild(args: string[]): any[] {
  const r = spawnSync('ip', nsChild(args), { env: { ...process.env, ADDON }, encoding: 'utf8', timeout: 20_000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['-n', NS, 'link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

const children: ChildProcess[] = [];
function teardown(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
}
const onSignal = (): void => {
  teardown();
  process.exit(130);
};

describe.skipIf(!isRoot)('native addon (root, in a private namespace)', () => {
  beforeAll(() => {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const r = spawnSync('ip', ['netns', 'add', NS], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${NS}: ${r.stderr}`);
    // no router solicitations or MLD reports in the TUNs
    spawnSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  });
  afterAll(() => {
    teardown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    expect(spawnSync('ip', ['netns', 'pids', NS], { stdio: 'ignore' }).status).not.toBe(0); // gone
  });

  it('opens (creating) a TUN device; a second open gets EBUSY; closing releases the device', async () => {
    const holder = spawn('ip', nsChild(['hold', 'tqa0']), { env: { ...process.env, ADDON }, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(holder);
    const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
    const opened = JSON.parse((await lines.next()).value);
    expect(opened.name).toBe('tqa0');
    expect(opened.fd).toBeGreaterThan(2);
    expect(linkExists('tqa0')).toBe(true);

    const second = runChild(['open-once', 'tqa0']);
    expect(second[0].code).toBe('EBUSY');
    expect(second[0].errno).toBe(16);
    expect(second[0].error).toMatch(/tqa0.*in use/);

    // the CLI turns the same failure into exit code 1 and a message naming the device
    const cli = spawnSync('ip', ['netns', 'exec', NS, process.execPath, join(ROOT, 'bin', 'tunqos.js'), 'run', '--dev', 'tqa0'], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/"tqa0".*in use/);

    holder.stdin!.end();
    expect(JSON.parse((await lines.next()).value)).toEqual({ closed: true });
    await new Promise((r) => holder.once('exit', r));
    expect(linkExists('tqa0')).toBe(false); // not persistent: gone with its last fd
    expect(runChild(['open-once', 'tqa0'])[0].name).toBe('tqa0');
  });

  it('rejects invalid interface names with EINVAL and a message naming the name', () => {
    for (const bad of ['', 'a/b', 'has space', 'x:1', 'abcdefghijklmnop']) {
      const [r] = runChild(['open-once', bad]);
      expect(r.code).toBe('EINVAL');
      expect(r.error).toContain(`"${bad}"`);
    }
    const cli = spawnSync('ip', ['netns', 'exec', NS, process.execPath, join(ROOT, 'bin', 'tunqos.js'), 'run', '--dev', 'bad/name'], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('"bad/name"');
  });

  it('reads a packet the kernel routes into the TUN and injects one written to it (readBatch/writeBatch, Poller)', () => {
    const [r] = runChild(['roundtrip', 'tqr0']);
    expect(r.error).toBeUndefined();
    expect(r.read).toMatchObject({ version: 4, proto: 17, dst: '10.213.0.2', payload: 'hello-tun', len: 28 + 9 });
    expect(r.written).toEqual({ consumed: 1, errors: 0, bytes: 37 });
    expect(r.echoed).toBe('hello-tun');
    expect(r.from).toBe('10.213.0.2:5000');
  });

  /** CLOCK_MONOTONIC now, in ns (the timer's clock) */
  const monoNs = (): number => {
    const t = process.hrtime();
    return t[0] * 1e9 + t[1];
  };
  /** an addon Timer that records the clock at each firing */
  const recordingTimer = () => {
    const addon = createRequire(import.meta.url)(ADDON);
    const fires: number[] = [];
    const timer = new addon.Timer(() => fires.push(monoNs()));
    return { timer, fires };
  };

  it('the timerfd timer fires once, not before its CLOCK_MONOTONIC deadline', async () => {
    const { timer, fires } = recordingTimer();
    const deadline = monoNs() + 20e6;
    timer.arm(deadline);
    await new Promise((r) => setTimeout(r, 300)); // a generous bound on a shared machine
    expect(fires.length).toBe(1);
    expect(fires[0]).toBeGreaterThanOrEqual(deadline);
    // disarm cancels
    timer.arm(monoNs() + 30e6);
    timer.disarm();
    await new Promise((r) => setTimeout(r, 100));
    expect(fires.length).toBe(1);
    timer.close();
    expect(() => timer.arm(0)).toThrow(/closed/);
  });

  it('a periodic timerfd timer fires every period, armed once, until disarmed', async () => {
    const { timer, fires } = recordingTimer();
    const first = monoNs() + 10e6;
    timer.arm(first, 10e6);
    await new Promise((r) => setTimeout(r, 205));
    timer.disarm();
    const n = fires.length;
    // up to 20 expiries fit in 205 ms; a busy machine folds some together, but never gets ahead of the clock
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(20);
    fires.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(first + i * 10e6));
    await new Promise((r) => setTimeout(r, 60));
    expect(fires.length).toBe(n); // disarmed: no more
    // a one-shot arm replaces the period
    const t1 = monoNs();
    timer.arm(t1 + 5e6, 2e6);
    timer.arm(t1 + 5e6);
    await new Promise((r) => setTimeout(r, 60));
    expect(fires.length).toBe(n + 1);
    timer.close();
  });
});

/** One packet per `interval` ns: a throttled root that needs the timer to make progress. */
class Paced extends QdiscBase {
  next = 0;
  /** when each dequeued packet became eligible */
  readonly eligible: number[] = [];
  private readonly ring = new PacketRing(64);
  constructor(
    readonly interval: Nanos,
    arena: Arena,
  ) {
    super('paced', 0, createQdiscEnv(arena, seededRandom(1)));
  }
  enqueue(pkt: number): number {
    this.ring.push(pkt);
    this.stats.qlen++;
    return XMIT_SUCCESS;
  }
  dequeue(now: Nanos): number {
    if (this.stats.qlen === 0) return -1;
    if (now < this.next) {
      this.wakeAt = this.next;
      return -1;
    }
    this.eligible.push(Math.max(this.next, 0));
    this.next = Math.max(now, this.next) + this.interval;
    this.wakeAt = Infinity;
    this.stats.qlen--;
    return this.ring.shift();
  }
  peek(): number {
    return this.ring.peek();
  }
  reset(): void {}
}

describe('Forwarder on the timerfd timer (real time, no network)', () => {
  it('a throttled root is woken by the timer: every packet goes out, none before it is eligible', async () => {
    const arena = new Arena(64);
    const clock = new MonotonicClock();
    const sentAt: number[] = [];
    const rx = new MemoryLink(arena);
    const tx = new MemoryLink(arena, { name: 'out' });
    const write = tx.writeBatch.bind(tx);
    tx.writeBatch = (ids, n) => {
      for (let i = 0; i < n; i++) sentAt.push(clock.now());
      return write(ids, n);
    };
    const root = new Paced(5e6, arena);
    const fwd = new Forwarder({ rx, tx, clock, timer: new TimerfdTimer(), tree: { root } });
    fwd.start();
    for (let i = 0; i < 5; i++) rx.inject(synthPacket({ sport: i }));
    rx.signal();
    for (let waited = 0; tx.written.length < 5 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    fwd.stop();
    expect(tx.written.map((p) => (p[20] << 8) | p[21])).toEqual([0, 1, 2, 3, 4]);
    for (let i = 0; i < 5; i++) expect(sentAt[i]).toBeGreaterThanOrEqual(root.eligible[i]);
    expect(fwd.counters.wakeups).toBeGreaterThanOrEqual(4);
    expect(arena.available).toBe(64);
  });
});

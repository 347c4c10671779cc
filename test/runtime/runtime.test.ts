import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sendTc } from '../../src/control/socket';
import { MemoryLink } from '../../src/link/memory';
import type { Arena } from '../../src/packet/arena';
import { seededRandom } from '../../src/qdisc/env';
import { RunOptionsError, type RunOptions, type Runtime, type RuntimeDevices, startRuntime } from '../../src/runtime/runtime';
import { ManualClock } from '../../src/time/clock';
import { ManualTimer } from '../../src/time/timer';
import { ipv4Bytes } from '../support/packets';

const log = pino({ level: 'silent' });

/** Devices in memory: every TUN is a MemoryLink, every timer a ManualTimer; what was opened is kept. */
function memoryDevices(opts: { failLinkUp?: string } = {}) {
  const tuns = new Map<string, MemoryLink>();
  const closes = new Map<string, number>();
  const ups: string[] = [];
  const devices: RuntimeDevices = {
    openTun(name: string, arena: Arena) {
      const link = new MemoryLink(arena, { name, mtu: 1400 });
      const close = link.close.bind(link);
      link.close = () => {
        closes.set(name, (closes.get(name) ?? 0) + 1);
        close();
      };
      tuns.set(name, link);
      return link;
    },
    linkUp(name: string) {
      if (name === opts.failLinkUp) throw new Error(`cannot bring ${name} up`);
      ups.push(name);
    },
    openRaw(iface: string, arena: Arena, mtu: number) {
      return new MemoryLink(arena, { name: `raw:${iface}`, mtu });
    },
    timer: () => new ManualTimer(),
    clock: new ManualClock(1e9),
  };
  return { devices, tuns, closes, ups };
}

const dirs: string[] = [];
const running: Runtime[] = [];
afterEach(async () => {
  for (const rt of running.splice(0)) await rt.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function controlPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tunqos-rt-'));
  dirs.push(dir);
  return join(dir, 'control.sock');
}

function options(devices: RuntimeDevices, extra: Partial<RunOptions> = {}): RunOptions {
  return { devs: [], egress: { kind: 'tun' }, random: seededRandom(1), warmup: false, control: controlPath(), devices, ...extra };
}

describe('startRuntime', () => {
  it('opens and brings up every device the options and the config name, and forwards through its tree', async () => {
    const mem = memoryDevices();
    const text = 'qdisc add dev tq1 root handle 1: prio\n';
    const rt = await startRuntime(options(mem.devices, { devs: ['tq0'], config: { text, file: 'cfg.tc' } }), {}, log);
    running.push(rt);
    expect([...mem.tuns.keys()]).toEqual(['tq0', 'tq1']);
    expect(mem.ups).toEqual(['tq0', 'tq1']);
    expect(rt.devices.map((d) => `${d.name} ${d.direction} ${d.tree.root.kind}`)).toEqual(['tq0 egress pfifo_fast', 'tq1 egress prio']);
    const tq1 = mem.tuns.get('tq1')!;
    tq1.inject(ipv4Bytes({ sport: 7, size: 64 }));
    tq1.signal();
    expect(tq1.written.length).toBe(1);
    expect(rt.summary()).toBe('tunqos summary: tq0: rx 0 pkt 0 B, tx 0 pkt 0 B, dropped 0; tq1: rx 1 pkt 64 B, tx 1 pkt 64 B, dropped 0');
  });

  it('feeds an ingress side from its own TUN and labels it in the summary and the sides', async () => {
    const mem = memoryDevices();
    const rt = await startRuntime(options(mem.devices, { devs: ['tq0'], ingress: new Map([['tq0', 'tqi']]) }), {}, log);
    running.push(rt);
    expect(rt.sides().map((s) => `${s.dev} ${s.direction}`)).toEqual(['tq0 egress', 'tq0 ingress']);
    expect(rt.summary()).toContain('tqi (tq0 ingress): rx 0 pkt');
  });

  it('applies live tc commands over the control socket and kicks the forwarders', async () => {
    const mem = memoryDevices();
    const opts = options(mem.devices, { devs: ['tq0'] });
    const rt = await startRuntime(opts, {}, log);
    running.push(rt);
    const r = await sendTc(opts.control!, ['qdisc', 'replace', 'dev', 'tq0', 'root', 'handle', '1:', 'prio']);
    expect(r.code).toBe(0);
    expect(rt.device('tq0')!.tree.root.kind).toBe('prio');
  });

  it('runs the snapshot trigger once started and removes it on stop', async () => {
    const mem = memoryDevices();
    let trigger: (() => void) | null = null;
    let removed = 0;
    const rt = await startRuntime(
      options(mem.devices, { devs: ['tq0'] }),
      {
        snapshotTrigger: (fn) => {
          trigger = fn;
          return () => removed++;
        },
      },
      log,
    );
    expect(trigger).not.toBeNull();
    await rt.stop();
    expect(removed).toBe(1);
  });

  it('stop() closes every link exactly once', async () => {
    const mem = memoryDevices();
    const rt = await startRuntime(options(mem.devices, { devs: ['tq0', 'tq1'] }), {}, log);
    await rt.stop();
    await rt.stop();
    expect(Object.fromEntries(mem.closes)).toEqual({ tq0: 1, tq1: 1 });
  });

  it('a start-up that fails half-way closes each link it opened exactly once', async () => {
    const mem = memoryDevices({ failLinkUp: 'tq1' });
    await expect(startRuntime(options(mem.devices, { devs: ['tq0', 'tq1'] }), {}, log)).rejects.toThrow(/cannot bring tq1 up/);
    expect(Object.fromEntries(mem.closes)).toEqual({ tq0: 1, tq1: 1 });
  });

  it('a failing start hook releases the forwarders, and each link is closed once', async () => {
    const mem = memoryDevices();
    const hooks = {
      onStarted: () => {
        throw new Error('hook failed');
      },
    };
    await expect(startRuntime(options(mem.devices, { devs: ['tq0'] }), hooks, log)).rejects.toThrow(/hook failed/);
    expect(Object.fromEntries(mem.closes)).toEqual({ tq0: 1 });
  });

  it('rejects options that describe no runnable shaper before anything opens', async () => {
    const mem = memoryDevices();
    await expect(startRuntime(options(mem.devices, { devs: ['tq0', 'tq0'] }), {}, log)).rejects.toThrow(new RunOptionsError('--dev tq0 is given twice'));
    await expect(startRuntime(options(mem.devices), {}, log)).rejects.toBeInstanceOf(RunOptionsError);
    await expect(startRuntime(options(mem.devices, { devs: ['tq0', 'tq1'], ingress: new Map([['tq0', 'tq1']]) }), {}, log)).rejects.toThrow(
      /TUN tq1 cannot be both the egress device tq1 and the ingress of tq0/,
    );
    await expect(startRuntime(options(mem.devices, { config: { text: 'qdisc add dev tq0 root nosuch\n', file: 'bad.tc' } }), {}, log)).rejects.toThrow(/bad\.tc:1/);
    expect(mem.tuns.size).toBe(0);
  });
});

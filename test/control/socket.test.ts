import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlServer,
  ControlSocketError,
  EXIT_BAD_REQUEST,
  ShaperNotRunningError,
  type TcHandler,
  defaultControlPath,
  sendTc,
  startControlServer,
} from '../../src/control/socket';
import { executeRequest } from '../../src/control/batch';
import { seededRandom } from '../../src/qdisc/env';
import { TcSystem } from '../../src/tc/system';

let dir: string;
let path: string;
const servers: ControlServer[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tqctl-'));
  path = join(dir, 'sub', 'tunqos.sock');
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(handler: TcHandler, extra: { requestTimeoutMs?: number } = {}): Promise<ControlServer> {
  const s = await startControlServer({ path, handler, ...extra });
  servers.push(s);
  return s;
}

const echo: TcHandler = async (argv) => ({ code: argv.length, stdout: `ran ${argv.join(' ')}\n`, stderr: '' });

/** Sends raw lines on one connection and collects `count` answer lines. */
function rawExchange(p: string, payload: string, count: number): Promise<Array<{ code: number; stdout: string; stderr: string }>> {
  return new Promise((resolve, reject) => {
    const s = connect(p);
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter((l) => l !== '');
      if (lines.length >= count) {
        s.destroy();
        resolve(lines.map((l) => JSON.parse(l)));
      }
    });
    s.on('error', reject);
    s.on('connect', () => s.write(payload));
  });
}

describe('control socket', () => {
  it('round-trips a tc command through the handler, unchanged, and answers with its output and code', async () => {
    const seen: string[][] = [];
    await start(async (argv) => {
      seen.push(argv);
      return echo(argv);
    });
    const argv = ['-s', 'class', 'show', 'dev', 'tq0'];
    const reply = await sendTc(path, argv);
    expect(seen).toEqual([argv]);
    expect(reply).toEqual({ code: 5, stdout: 'ran -s class show dev tq0\n', stderr: '' });
  });

  it('is born 0600 even in an existing world-writable directory, and leaves the process umask as it was', async () => {
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const before = process.umask();
    const s = await startControlServer({ path: join(open, 'gw.sock'), handler: echo });
    servers.push(s);
    expect(statSync(join(open, 'gw.sock')).mode & 0o777).toBe(0o600);
    expect(process.umask()).toBe(before);
  });

  it('creates the socket 0600 in a 0700 directory, and close() removes it', async () => {
    const s = await start(echo);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700);
    await s.close();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces the socket file left by a dead server', async () => {
    // A child process listens on the path and is killed before it can clean up.
    const child = spawnSync(
      process.execPath,
      ['-e', `require('fs').mkdirSync(require('path').dirname(process.argv[1]),{recursive:true});require('net').createServer().listen(process.argv[1],()=>process.kill(process.pid,'SIGKILL'))`, path],
      { timeout: 10_000 },
    );
    expect(child.signal).toBe('SIGKILL');
    expect(lstatSync(path).isSocket()).toBe(true); // the stale file is there
    await expect(sendTc(path, ['qdisc', 'show'])).rejects.toBeInstanceOf(ShaperNotRunningError);
    await start(echo);
    expect((await sendTc(path, ['qdisc', 'show'])).stdout).toBe('ran qdisc show\n');
  });

  it('refuses to start while another live server owns the path, and leaves that server working', async () => {
    await start(echo);
    const second = startControlServer({ path, handler: echo });
    await expect(second).rejects.toBeInstanceOf(ControlSocketError);
    await expect(second).rejects.toThrow(/already running at .*tunqos\.sock/);
    expect((await sendTc(path, ['x'])).stdout).toBe('ran x\n');
  });

  it('refuses to replace a file that is not a socket', async () => {
    await start(echo).then((s) => s.close());
    writeFileSync(path, 'precious');
    await expect(startControlServer({ path, handler: echo })).rejects.toThrow(/not a socket/);
  });

  it('runs requests from concurrent clients one at a time, each to completion', async () => {
    let active = 0;
    let maxActive = 0;
    const log: string[] = [];
    await start(async (argv) => {
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(`start ${argv[0]}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${argv[0]}`);
      active--;
      return { code: 0, stdout: argv[0], stderr: '' };
    });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const replies = await Promise.all(names.map((n) => sendTc(path, [n])));
    expect(replies.map((r) => r.stdout)).toEqual(names); // each client got its own answer
    expect(maxActive).toBe(1);
    // never two starts in a row: every request ran to its end before the next began
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i].slice(6)).toBe(log[i + 1].slice(4));
    }
  });

  it('answers bad JSON and wrong shapes with an error, and keeps serving the same connection', async () => {
    await start(echo);
    const answers = await rawExchange(path, 'not json\n{"argv": 5}\n{"nope": []}\n{"argv": ["qdisc", "show"]}\n', 4);
    expect(answers.slice(0, 3).map((a) => a.code)).toEqual([EXIT_BAD_REQUEST, EXIT_BAD_REQUEST, EXIT_BAD_REQUEST]);
    expect(answers[0].stderr).toMatch(/bad control request: not JSON/);
    expect(answers[1].stderr).toMatch(/array of strings/);
    expect(answers[3]).toEqual({ code: 2, stdout: 'ran qdisc show\n', stderr: '' });
  });

  it('turns a throwing handler and a hung handler into error answers, and stays usable', async () => {
    let mode = 'throw';
    await start(
      (argv) => {
        if (mode === 'throw') throw new Error('boom in handler');
        if (mode === 'hang') return new Promise(() => {});
        return echo(argv);
      },
      { requestTimeoutMs: 50 },
    );
    const thrown = await sendTc(path, ['a']);
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toMatch(/boom in handler/);
    mode = 'hang';
    const hung = await sendTc(path, ['b']);
    expect(hung.code).toBe(1);
    expect(hung.stderr).toMatch(/timed out after 50 ms/);
    mode = 'ok';
    expect((await sendTc(path, ['c'])).stdout).toBe('ran c\n');
  });

  it('a client with no server gets a clear "no tunqos running" error', async () => {
    const err = await sendTc(join(dir, 'absent.sock'), ['qdisc', 'show']).catch((e) => e);
    expect(err).toBeInstanceOf(ShaperNotRunningError);
    expect(err.message).toBe(`no tunqos running at ${join(dir, 'absent.sock')} (start one with tunqos run ...)`);
  });

  it('defaults to /run/tunqos for root and a per-user directory otherwise', () => {
    expect(defaultControlPath(0)).toBe('/run/tunqos/tunqos.sock');
    expect(defaultControlPath(1234)).toBe(join(tmpdir(), 'tunqos-1234', 'tunqos.sock'));
  });

  it("carries the tc layer's reply unchanged: 0 and stdout, or 1 and the error on stderr", async () => {
    const sys = new TcSystem({ random: seededRandom(1) });
    sys.addDevice('tq0');
    await start(async (argv) => executeRequest(sys, argv));
    expect(await sendTc(path, ['qdisc', 'show', 'dev', 'tq0'])).toEqual({ code: 0, stdout: 'qdisc pfifo_fast 0: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n', stderr: '' });
    expect(await sendTc(path, ['qdisc', 'show', 'dev', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'Error: Cannot find device "nope"\n' });
  });
});

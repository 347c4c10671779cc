import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TcIo, registerTc } from '../../src/cli/tc';
import { type ControlServer, startControlServer } from '../../src/control/socket';

let dir: string;
let path: string;
let server: ControlServer | null = null;
let seen: string[][] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tqcli-'));
  path = join(dir, 'tunqos.sock');
  seen = [];
  // A fake gateway: answers like tc would, with an exit code that depends on the command.
  server = await startControlServer({
    path,
    handler: async (argv) => {
      seen.push(argv);
      if (argv.includes('bogus')) return { code: 1, stdout: '', stderr: 'Error: "bogus" is not a known qdisc\n' };
      return { code: 0, stdout: `class htb 1:10 root prio 0 rate 1Mbit\n Sent 1500 bytes 1 pkt\n`, stderr: '' };
    },
  });
});
afterEach(async () => {
  await server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `tunqos <args>` through a fresh commander program with captured output. */
async function cli(args: string[]): Promise<{ out: string; err: string; code: number | undefined; help: string }> {
  const res = { out: '', err: '', code: undefined as number | undefined, help: '' };
  const io: TcIo = { out: (t) => void (res.out += t), err: (t) => void (res.err += t), exit: (c) => void (res.code = c) };
  const program = new Command()
    .name('tunqos')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void (res.help += t), writeErr: (t) => void (res.help += t) });
  registerTc(program, io);
  await program.parseAsync(['node', 'tunqos', ...args]);
  return res;
}

describe('tunqos tc (client)', () => {
  it('passes tc flags and arguments through in order and prints the gateway answer', async () => {
    const r = await cli(['tc', '--control', path, '-s', 'class', 'show', 'dev', 'tq0']);
    expect(seen).toEqual([['-s', 'class', 'show', 'dev', 'tq0']]);
    expect(r.out).toBe('class htb 1:10 root prio 0 rate 1Mbit\n Sent 1500 bytes 1 pkt\n');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('keeps long single-dash tc flags and trailing flags intact', async () => {
    await cli(['tc', '--control', path, '-stats', '-d', 'qdisc', 'show', 'dev', 'tq0', '-j']);
    expect(seen).toEqual([['-stats', '-d', 'qdisc', 'show', 'dev', 'tq0', '-j']]);
  });

  it("exits with the gateway's code and prints its stderr", async () => {
    const r = await cli(['tc', '--control', path, 'qdisc', 'add', 'dev', 'tq0', 'root', 'bogus']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error: "bogus" is not a known qdisc\n');
    expect(r.out).toBe('');
  });

  it('says clearly when no gateway runs at the path', async () => {
    const absent = join(dir, 'none.sock');
    const r = await cli(['tc', '--control', absent, 'qdisc', 'show']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`tunqos tc: no tunqos running at ${absent} (start one with tunqos run ...)\n`);
    expect(seen).toEqual([]);
  });

  it('shows help for --help instead of sending it', async () => {
    let help = '';
    const program = new Command().name('tunqos').exitOverride().configureOutput({ writeOut: (t) => void (help += t) });
    registerTc(program);
    const err = await program.parseAsync(['node', 'tunqos', 'tc', '--help']).catch((e) => e);
    expect(err.code).toBe('commander.helpDisplayed');
    expect(help).toMatch(/Usage: tunqos tc \[--control PATH\]/);
    expect(seen).toEqual([]);
  });

  it('the real binary prints the answer and exits with the code', async () => {
    const bin = resolve(__dirname, '../../bin/tunqos.js');
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, [bin, 'tc', '--control', path, ...args], { timeout: 30_000 }, (e, stdout, stderr) => {
          done({ code: e ? Number((e as { code?: number }).code ?? -1) : 0, stdout, stderr });
        });
      });
    const bad = await run(['qdisc', 'add', 'dev', 'tq0', 'root', 'bogus']);
    expect(bad).toEqual({ code: 1, stdout: '', stderr: 'Error: "bogus" is not a known qdisc\n' });
    expect(seen).toEqual([['qdisc', 'add', 'dev', 'tq0', 'root', 'bogus']]);
  }, 30_000);
});

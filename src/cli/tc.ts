/**
 * `tunqos tc [--control PATH] [-s] [-d] [-j] <tc arguments...>`: the live client. Everything after the
 * subcommand's own `--control` is handed, in order and untouched, to the gateway's control socket, which
 * runs it as `tc` would; the answer's stdout/stderr are printed and its code becomes our exit status.
 *
 * tc's own flags (-s, -d, -j, -stats, -details, -p, ...) are deliberately NOT commander options: tc
 * accepts long single-dash spellings (`-stats`) that commander would split into `-s -t -a ...`, and
 * the server already parses them like tc. So unknown options pass through in their original order.
 */
import type { Command } from 'commander';
import { GatewayNotRunningError, defaultControlPath, sendTc } from '../control/socket';

export interface TcIo {
  out(text: string): void;
  err(text: string): void;
  exit(code: number): void;
}

const processIo: TcIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  exit: (code) => {
    process.exitCode = code;
  },
};

/** Sends `argv` to the gateway at `controlPath` and prints its answer; returns the exit code. */
export async function runTc(argv: string[], controlPath: string, io: TcIo = processIo): Promise<number> {
  let code: number;
  try {
    const reply = await sendTc(controlPath, argv);
    if (reply.stdout) io.out(reply.stdout);
    if (reply.stderr) io.err(reply.stderr);
    code = reply.code;
  } catch (e) {
    io.err(`tunqos tc: ${e instanceof GatewayNotRunningError ? e.message : (e as Error).message}\n`);
    code = 1;
  }
  io.exit(code);
  return code;
}

export function registerTc(program: Command, io: TcIo = processIo): void {
  program
    .command('tc')
    .summary('run a tc command against a running gateway (tunqos tc -s class show dev tq0)')
    .description('Send a tc command to the running tunqos gateway over its control socket and print what tc would.')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  tunqos tc -s class show dev tq0\n' +
        '  tunqos tc class change dev tq0 parent 1:1 classid 1:10 htb rate 2mbit ceil 5mbit\n' +
        '  tunqos tc -j qdisc show dev tq0\n',
    )
    .usage('[--control PATH] [-s] [-d] [-j] <tc arguments...>')
    .option('--control <path>', 'control socket of the running gateway', defaultControlPath())
    .argument('[tc-arguments...]', 'a tc command, e.g. -s qdisc show dev tq0')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption('-h, --help', 'show this help (tc flags -s, -d, -j are passed to the gateway)')
    .action(async (args: string[], opts: { control: string }, cmd: Command) => {
      if (args.length === 0) {
        io.err('tunqos tc: missing tc arguments, e.g. tunqos tc -s qdisc show dev tq0\n');
        cmd.outputHelp({ error: true });
        io.exit(2);
        return;
      }
      await runTc(args, opts.control, io);
    });
}

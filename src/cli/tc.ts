/**
 * `tunqos tc [--control PATH] [-s] [-d] [-j] <tc arguments...>`: the live client. Everything after the
 * subcommand's own `--control` is handed, in order and untouched, to the gateway's control socket, which
 * runs it as `tc` would; the answer's stdout/stderr are printed and its code becomes our exit status.
 *
 * tc's own flags (-s, -d, -j, -stats, -details, -p, ...) are deliberately NOT commander options: tc
 * accepts long single-dash spellings (`-stats`) that commander would split into `-s -t -a ...`, and
 * the server already parses them like tc. So unknown options pass through in their original order.
 *
 * Batches, applied by the gateway atomically (all commands or none), with errors located in YOUR file:
 *   tunqos tc -b FILE | -batch FILE     a file of tc commands, as `tc -batch` (and as `run -c` reads it)
 *   tunqos tc --script FILE             a bash script whose tc calls are recorded here, then sent
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ShaperNotRunningError, defaultControlPath, sendTc } from '../control/socket';
import { encodeBatch } from '../control/batch';
import { lexTc } from '../tc/lexer';
import { recordScript } from '../tc/script';

/**
 * The argv to send: a tc command as given, or a batch built from `-b FILE` or `--script FILE`.
 * Lexing and script recording happen here, in the client (the script runs as the caller, not the
 * gateway). Throws with a message for a file that cannot be read.
 */
export function requestFor(args: string[], script: string | undefined, io: TcIo): string[] {
  if (script !== undefined) {
    const rec = recordScript(script);
    for (const w of rec.warnings) io.err(`${w}\n`);
    return encodeBatch(rec.calls);
  }
  if (args[0] === '-b' || args[0] === '-batch') {
    const file = args[1];
    if (file === undefined || args.length > 2) throw new Error(`${args[0]} takes exactly one FILE`);
    return encodeBatch(lexTc(readFileSync(file, 'utf8'), file));
  }
  return args;
}

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
    io.err(`tunqos tc: ${e instanceof ShaperNotRunningError ? e.message : (e as Error).message}\n`);
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
        '  tunqos tc -j qdisc show dev tq0\n' +
        '  tunqos tc -b changes.tc                 (all commands of the file, atomically)\n' +
        '  tunqos tc --script my-shaper.sh         (the tc calls of a bash script, atomically)\n',
    )
    .usage('[--control PATH] [-s] [-d] [-j] <tc arguments...>')
    .option('--control <path>', 'control socket of the running gateway', defaultControlPath())
    .option('--script <file>', 'record the tc calls of a bash script and apply them atomically')
    .argument('[tc-arguments...]', 'a tc command, e.g. -s qdisc show dev tq0')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption('-h, --help', 'show this help (tc flags -s, -d, -j are passed to the gateway)')
    .action(async (args: string[], opts: { control: string; script?: string }, cmd: Command) => {
      if (args.length === 0 && opts.script === undefined) {
        io.err('tunqos tc: missing tc arguments, e.g. tunqos tc -s qdisc show dev tq0\n');
        cmd.outputHelp({ error: true });
        io.exit(2);
        return;
      }
      let request: string[];
      try {
        request = requestFor(args, opts.script, io);
      } catch (e) {
        io.err(`tunqos tc: ${(e as Error).message}\n`);
        io.exit(1);
        return;
      }
      await runTc(request, opts.control, io);
    });
}

/**
 * The tunqos command line (commander). The only module that reads argv, the environment and signals;
 * each subcommand lives in its own file and registers itself on the program.
 *
 * Subcommands are loaded lazily: `tunqos tc ...` imports only cli/tc.ts and what it needs, not the
 * forwarder, the logger (pino) or the metrics (prom-client) that `run` needs; start-up is most of the
 * cost of a `tunqos tc` call (bench/startup.ts). Help, errors and unknown words load them all, so
 * commander can list and suggest every subcommand; `--version` loads none.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

type Register = (program: Command) => void;

// Subcommands register here, one line each, in the order help lists them.
const subcommands: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./run')).registerRun,
  tc: async () => (await import('./tc')).registerTc,
  demo: async () => (await import('./demo')).registerDemo,
  check: async () => (await import('./check')).registerCheck,
  classify: async () => (await import('./classify')).registerClassify,
  gateway: async () => (await import('./testbed')).registerTestbed,
};

const program = new Command();
program
  .name('tunqos')
  .description('Linux tc in user space: shape traffic through a TUN device with HTB, SFQ, RED, TBF, PRIO and u32 filters')
  // package.json is two levels up from src/cli/main.ts and from dist/cli/main.js (scripts/build.mjs)
  .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
  .showHelpAfterError();

const word = process.argv[2];
const needed =
  word !== undefined && Object.hasOwn(subcommands, word) ? [word] : word === '-V' || word === '--version' ? [] : Object.keys(subcommands);
const registers = await Promise.all(needed.map((name) => subcommands[name]!()));
for (const register of registers) register(program);

await program.parseAsync(process.argv);

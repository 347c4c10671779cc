/**
 * The tunqos command line (commander). The only module that reads argv, the environment and signals;
 * each subcommand lives in its own file and registers itself on the program.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCheck } from './check';
import { registerClassify } from './classify';
import { registerTestbed } from './testbed';
import { registerRun } from './run';
import { registerTc } from './tc';
import { registerDemo } from './demo';

const program = new Command();
program
  .name('tunqos')
  .description('Linux tc in user space: shape traffic through a TUN device with HTB, SFQ, RED, TBF, PRIO and u32 filters')
  .version(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version)
  .showHelpAfterError();

// Subcommands register here, one line each.
registerRun(program);
registerTc(program);
registerDemo(program);
registerCheck(program);
registerClassify(program);
registerTestbed(program);

await program.parseAsync(process.argv);

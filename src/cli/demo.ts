/**
 * `tunqos demo [--seconds N] [-c FILE]`: namespaces, tunqos with configs/demo.tc, iperf3 and ping
 * through it, live per-class rates, then a table of what each class achieved against its
 * configuration (src/demo/demo.ts). Ctrl-C stops the traffic, prints what was measured and tears
 * everything down. Exit status: 0 when every class met its configuration, 1 otherwise or on an
 * error, 130 when interrupted.
 */
import type { Command } from 'commander';
import { formatDemoTable, runDemo } from '../demo/demo';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('client/gateway/server namespaces, iperf3 and ping through tunqos shaping with configs/demo.tc; live rates, then a verdict table (root)')
    .option('--seconds <n>', 'how long the traffic runs', '20')
    .option('-c, --config <file>', 'tc script to demonstrate instead of configs/demo.tc (its device is renamed to the gateway TUN)')
    .action(async (o: { seconds: string; config?: string }) => {
      const seconds = Number(o.seconds);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        process.stderr.write(`tunqos demo: --seconds must be a positive number, got "${o.seconds}"\n`);
        process.exitCode = 2;
        return;
      }
      const abort = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\ntunqos demo: interrupted, tearing down ...\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        const r = await runDemo({ seconds, config: o.config, signal: abort.signal });
        process.stdout.write(`\n${formatDemoTable(r)}`);
        process.exitCode = r.interrupted ? 130 : r.errors.length > 0 || r.classes.length === 0 || r.classes.some((c) => !c.met) ? 1 : 0;
      } catch (e) {
        process.stderr.write(`tunqos demo: ${(e as Error).message}\n`);
        process.exitCode = abort.signal.aborted ? 130 : 1;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}

/**
 * Batches over the control socket (`tunqos tc -b FILE`, `tunqos tc --script FILE`): the client lexes
 * its file (or records its script) and sends the located commands as ONE argv, this marker then JSON,
 * so that an error found by the gateway names the file, line and column on the client's side. The
 * gateway applies a batch atomically, all commands or none (TcSystem.executeBatch).
 */
import type { LexedCommand } from '../tc/lexer';
import { type TcReply, type TcSystem } from '../tc/system';
import { TcError, type Token } from '../tc/tokens';

export const BATCH_MARKER = '--tunqos-batch';

export function encodeBatch(cmds: readonly LexedCommand[]): string[] {
  return [BATCH_MARKER, JSON.stringify(cmds.map((c) => ({ anchor: c.anchor, tokens: c.tokens })))];
}

function isToken(t: unknown): t is Token {
  const o = t as Token;
  return typeof o === 'object' && o !== null && typeof o.text === 'string' && typeof o.file === 'string' && Number.isInteger(o.line) && Number.isInteger(o.col);
}

/** The commands of a batch argv, or a TcError saying why it is malformed (never throws). */
export function decodeBatch(argv: readonly string[]): LexedCommand[] | TcError {
  if (argv.length !== 2) return new TcError(`a batch request carries exactly one JSON argument, got ${argv.length - 1}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(argv[1]);
  } catch (e) {
    return new TcError(`malformed batch request: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) return new TcError('malformed batch request: expected a list of commands');
  const out: LexedCommand[] = [];
  for (const c of parsed as Array<{ anchor?: unknown; tokens?: unknown }>) {
    if (!isToken(c?.anchor) || !Array.isArray(c.tokens) || !c.tokens.every(isToken)) {
      return new TcError('malformed batch request: a command lacks located tokens');
    }
    out.push({ anchor: c.anchor, tokens: c.tokens });
  }
  return out;
}

/** One control request against `system`: a batch (marked argv) or a single tc command. Never throws. */
export function executeRequest(system: TcSystem, argv: readonly string[]): TcReply {
  if (argv[0] !== BATCH_MARKER) return system.execute(argv);
  const batch = decodeBatch(argv);
  if (batch instanceof TcError) return { code: 1, stdout: '', stderr: `Error: ${batch.message}\n` };
  return system.executeBatch(batch);
}

/** Tokens for tests: the words of one line, located as the lexer would locate them (1-based columns). */
import type { Token } from '../../src/tc/tokens';

export function lineTokens(line: string, file = 'test.tc', lineNo = 1): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push({ text: m[0], file, line: lineNo, col: m.index + 1 });
  return out;
}

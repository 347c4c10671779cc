/**
 * The lexer of tc config files: text → one token list per command, every token located.
 *
 * A config file is a list of `tc` commands, one per line, as people write them in shell scripts:
 *  - `#` starts a comment where a word could start (a whole line, or after a command, as in bash);
 *    a `#` inside a word (`1:#`) is part of the word, as in bash;
 *  - a backslash at the end of a line continues the command on the next line; tokens keep the
 *    physical line and column they were written on, so errors point at the real place;
 *  - an optional leading `tc` word is dropped (`tc qdisc add ...` and `qdisc add ...` are the same);
 *  - simple quoting: '...' and "..." group words (no variable expansion: use `--script` for bash
 *    scripts); a backslash inside double quotes escapes the next character;
 *  - blank lines and lines holding only comments produce nothing.
 * Reference: the way bash splits words (only the parts tc scripts use).
 */
import { TcError, type Token } from './tokens';

export interface LexedCommand {
  /** the command's words, without the leading `tc` */
  readonly tokens: Token[];
  /** the first word of the command (for errors about a command that ends too early) */
  readonly anchor: Token;
}

/** Splits `text` (the content of `file`) into commands. Throws TcError on an unterminated quote. */
export function lexTc(text: string, file: string): LexedCommand[] {
  const commands: LexedCommand[] = [];
  let words: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const n = text.length;

  const endCommand = (): void => {
    if (words.length > 0) {
      const anchor = words[0];
      const tokens = anchor.text === 'tc' && words.length > 1 ? words.slice(1) : words;
      if (!(anchor.text === 'tc' && words.length === 1)) commands.push({ tokens, anchor });
    }
    words = [];
  };

  while (i < n) {
    const c = text[i];
    if (c === '\n') {
      endCommand();
      i++;
      line++;
      col = 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ';') {
      if (c === ';') endCommand();
      i++;
      col++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      // continuation: the command goes on with the next physical line
      i += text[i + 1] === '\r' ? 3 : 2;
      line++;
      col = 1;
      continue;
    }
    if (c === '\\' && i + 1 >= n) {
      i++; // a lone backslash at the very end continues into nothing
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    // a word: runs of plain characters and quoted parts, until blank, newline or `;`
    const startLine = line;
    const startCol = col;
    let word = '';
    while (i < n) {
      const d = text[i];
      if (d === ' ' || d === '\t' || d === '\n' || d === '\r' || d === ';') break;
      if (d === '\\') {
        const e = text[i + 1];
        if (e === '\n' || e === undefined || (e === '\r' && text[i + 2] === '\n')) break; // continuation (handled by the outer loop) or a lone `\` at EOF
        word += e;
        i += 2;
        col += 2;
        continue;
      }
      if (d === "'" || d === '"') {
        const quoteLine = line;
        const quoteCol = col;
        i++;
        col++;
        let closed = false;
        while (i < n) {
          const e = text[i];
          if (e === d) {
            closed = true;
            i++;
            col++;
            break;
          }
          if (d === '"' && e === '\\' && text[i + 1] === '\n') {
            // backslash-newline inside double quotes is a continuation, as in bash: both vanish
            i += 2;
            line++;
            col = 1;
            continue;
          }
          if (d === '"' && e === '\\' && i + 1 < n) {
            word += text[i + 1];
            i += 2;
            col += 2;
            continue;
          }
          if (e === '\n') {
            line++;
            col = 1;
          } else col++;
          word += e;
          i++;
        }
        if (!closed) {
          throw new TcError(`unterminated ${d === '"' ? 'double' : 'single'} quote`, { text: d, file, line: quoteLine, col: quoteCol });
        }
        continue;
      }
      word += d;
      i++;
      col++;
    }
    words.push({ text: word, file, line: startLine, col: startCol });
  }
  endCommand();
  return commands;
}

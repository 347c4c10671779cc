/**
 * Tokens of tc commands with their location, and the error that names one.
 *
 * Every word of a config file or command line becomes a Token carrying file, line and column (1-based),
 * so that any error can say `FILE:LINE:COL: message` and point at the exact word. `Args` is the cursor
 * the parsers walk: qdisc kinds (src/tc/kinds.ts), the filter parser and the command dispatcher.
 */
export interface Token {
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function locate(t: Token): string {
  return `${t.file}:${t.line}:${t.col}`;
}

/** A configuration error located at a token: `file:line:col: message`. */
export class TcError extends Error {
  readonly token: Token | undefined;
  readonly reason: string;
  constructor(reason: string, token?: Token) {
    super(token ? `${locate(token)}: ${reason}` : reason);
    this.name = 'TcError';
    this.reason = reason;
    this.token = token;
  }
}

/**
 * iproute2's matches(): `typed` is an abbreviation of `keyword` (a prefix of it, at least `min`
 * letters long), as tc accepts `q` for qdisc or `del` for delete.
 */
export function matches(typed: string, keyword: string, min = 1): boolean {
  return typed.length >= min && keyword.startsWith(typed);
}

/** Makes tokens from a plain argument list (command line: `tunqos tc qdisc add ...`). */
export function tokensFromArgv(argv: readonly string[], file = '<command line>'): Token[] {
  let col = 1;
  return argv.map((text) => {
    const t: Token = { text, file, line: 1, col };
    col += text.length + 1;
    return t;
  });
}

/** A cursor over the tokens of one command. */
export class Args {
  private i = 0;
  constructor(
    readonly tokens: readonly Token[],
    /** the token to blame when the command ends too early (usually the command's first word) */
    private readonly anchor?: Token,
  ) {}

  done(): boolean {
    return this.i >= this.tokens.length;
  }
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  /** the next word, lower-cased, or '' at the end */
  peekWord(): string {
    return this.i < this.tokens.length ? this.tokens[this.i].text.toLowerCase() : '';
  }
  /** the last token consumed (for errors about a value just read) */
  last(): Token | undefined {
    return this.tokens[this.i - 1] ?? this.anchor;
  }
  next(): Token {
    const t = this.tokens[this.i];
    if (!t) throw new TcError('unexpected end of command', this.last());
    this.i++;
    return t;
  }
  /** consumes the next token if it is `word` (case-insensitive) */
  accept(word: string): Token | undefined {
    const t = this.tokens[this.i];
    if (t && t.text.toLowerCase() === word) {
      this.i++;
      return t;
    }
    return undefined;
  }
  /** the value after keyword `key` (already consumed); error names the keyword when missing */
  value(key: Token): Token {
    const t = this.tokens[this.i];
    if (!t) throw new TcError(`"${key.text}" needs a value`, key);
    this.i++;
    return t;
  }
  /** the remaining tokens, consumed */
  rest(): Token[] {
    const r = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return r;
  }
  error(message: string, t?: Token): TcError {
    return new TcError(message, t ?? this.peek() ?? this.last());
  }
}

import { describe, expect, it } from 'vitest';
import { lexTc } from '../../src/tc/lexer';
import { TcError } from '../../src/tc/tokens';

const words = (text: string) => lexTc(text, 'f.tc').map((c) => c.tokens.map((t) => t.text));

describe('lexTc', () => {
  it('splits one command per line, drops blank lines and an optional leading tc', () => {
    expect(words('tc qdisc add dev tq0 root pfifo\n\n  class show dev tq0\n')).toEqual([
      ['qdisc', 'add', 'dev', 'tq0', 'root', 'pfifo'],
      ['class', 'show', 'dev', 'tq0'],
    ]);
  });

  it('drops full-line and trailing comments, but keeps # inside a word', () => {
    expect(words('# a comment\nfilter add flowid 1:40  # rsync\nqdisc add x#y\n')).toEqual([
      ['filter', 'add', 'flowid', '1:40'],
      ['qdisc', 'add', 'x#y'],
    ]);
  });

  it('joins backslash continuations and keeps the physical line and column of each token', () => {
    const cmds = lexTc('tc qdisc add dev eth0 root handle 1:0 cbq bandwidth 100Mbit \\\n  avpkt 1000 cell 8\n', 'f.tc');
    expect(cmds).toHaveLength(1);
    const avpkt = cmds[0].tokens.find((t) => t.text === 'avpkt')!;
    expect([avpkt.file, avpkt.line, avpkt.col]).toEqual(['f.tc', 2, 3]);
    const bw = cmds[0].tokens.find((t) => t.text === 'bandwidth')!;
    expect([bw.line, bw.col]).toEqual([1, 43]);
  });

  it('handles CRLF line ends and continuations', () => {
    expect(words('qdisc add \\\r\n dev a\r\nclass show\r\n')).toEqual([
      ['qdisc', 'add', 'dev', 'a'],
      ['class', 'show'],
    ]);
  });

  it('groups quoted words and reports an unterminated quote at the quote', () => {
    expect(words(`qdisc add dev "my dev" 'a b'\n`)).toEqual([['qdisc', 'add', 'dev', 'my dev', 'a b']]);
    try {
      lexTc('qdisc add\nclass add dev "tq0\n', 'q.tc');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TcError);
      expect((e as TcError).message).toBe('q.tc:2:15: unterminated double quote');
    }
  });

  it('a backslash-newline inside double quotes joins the lines (as bash does) and later tokens keep their physical line', () => {
    const cmds = lexTc('qdisc add dev "tq\\\n0" root pfifo\nclass show\n', 'f.tc');
    expect(cmds.map((c) => c.tokens.map((t) => t.text))).toEqual([['qdisc', 'add', 'dev', 'tq0', 'root', 'pfifo'], ['class', 'show']]);
    const root = cmds[0].tokens.find((t) => t.text === 'root')!;
    expect([root.line, root.col]).toEqual([2, 4]);
    expect(cmds[1].anchor.line).toBe(3);
  });

  it('a semicolon separates commands; a lone trailing backslash is harmless', () => {
    expect(words('qdisc show; class show \\')).toEqual([['qdisc', 'show'], ['class', 'show']]);
  });
});

/**
 * The control socket: how `tunqos tc ...` talks to a running gateway.
 *
 * Protocol: a Unix stream socket carrying newline-delimited JSON. The client writes one request per
 * line, `{"argv": ["-s", "class", "show", "dev", "tq0"]}`, and reads one answer per line,
 * `{"code": 0, "stdout": "...", "stderr": ""}` — exactly what a `tc` process would have printed and
 * its exit status. A connection may carry several requests; answers come back in order.
 *
 * Safety rules:
 *  - Requests from all connections are run one at a time (a single queue), so two clients can never
 *    interleave half-applied changes; the tc layer makes each request atomic on its own.
 *  - The socket file is mode 0600 inside a directory created 0700: only its owner (root for a
 *    gateway) may reconfigure the shaper.
 *  - A socket file left by a dead server is replaced; a live server at the same path is refused.
 *  - Nothing a client sends can crash the server: bad JSON, a wrong shape, an oversized line, a
 *    handler that throws or never answers all become error answers (or a closed connection).
 *  - A handler that exceeds the request timeout gets an error answer and the queue moves on, so one
 *    wedged command cannot lock the control plane forever (the tc layer's execute is synchronous in
 *    practice, so nothing can still be running behind the next request).
 *
 * Differences from Linux: tc talks netlink to the kernel; here the "kernel" is the gateway process and
 * the transport is this socket. The `tc` argument vector is passed through unchanged.
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { TcReply } from '../tc/system';

/** What a tc command printed and its exit status (the tc layer's TcReply, what travels back). */
export type { TcReply };

/** Runs one tc command (argv without the leading `tc`) against the live device model. */
export type TcHandler = (argv: string[]) => Promise<TcReply>;

/** Exit status for a request the server could not understand (tc uses 1 for command errors). */
export const EXIT_BAD_REQUEST = 2;
/** Exit status when the handler failed or timed out. */
export const EXIT_HANDLER_FAILED = 1;

/** Linux's sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The default control path: `/run/tunqos/tunqos.sock` for root (a gateway normally runs as root), or
 * `<tmpdir>/tunqos-<uid>/tunqos.sock` for anyone else, so that an unprivileged test run neither needs
 * /run nor collides with another user. Client and server compute the same default.
 */
export function defaultControlPath(uid: number | undefined = process.getuid?.()): string {
  if (uid === undefined || uid === 0) return '/run/tunqos/tunqos.sock';
  return join(tmpdir(), `tunqos-${uid}`, 'tunqos.sock');
}

export interface ControlServerOptions {
  path: string;
  handler: TcHandler;
  /** longest time one request may run before the client gets an error answer (ms, default 10 s) */
  requestTimeoutMs?: number;
  /** a connection silent for this long is closed (ms, default 60 s) */
  idleTimeoutMs?: number;
  /** largest request line accepted (bytes, default 1 MiB) */
  maxRequestBytes?: number;
}

/** Thrown when another live server owns the socket path, or the path cannot be used. */
export class ControlSocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlSocketError';
  }
}

/** A listening control server; `close()` stops it and removes its socket file. */
export class ControlServer {
  readonly path: string;
  private readonly server: Server;
  private readonly handler: TcHandler;
  private readonly requestTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxRequestBytes: number;
  private readonly connections = new Set<Socket>();
  /** the request queue: every request chains on the previous one, so they run one at a time */
  private tail: Promise<void> = Promise.resolve();
  /** device and inode of the socket file we created, so close() never unlinks someone else's */
  private ownIdentity = '';
  private closed = false;

  private constructor(opts: ControlServerOptions) {
    this.path = opts.path;
    this.handler = opts.handler;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.maxRequestBytes = opts.maxRequestBytes ?? 1 << 20;
    this.server = createServer((sock) => this.accept(sock));
  }

  /** Prepares the path (directory, stale socket), listens, and sets the socket file to mode 0600. */
  static async start(opts: ControlServerOptions): Promise<ControlServer> {
    const srv = new ControlServer(opts);
    await prepareSocketPath(opts.path);
    // The socket file is created by bind(), which Node runs synchronously inside listen(): under umask
    // 0177 it is born 0600, so there is no moment when another user could connect (the directory may
    // already exist with looser permissions). The umask is process-wide, so it is restored at once.
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(new ControlSocketError(`cannot listen on ${opts.path}: ${err.message}`));
      };
      srv.server.once('error', onError);
      const previousUmask = process.umask(0o177);
      try {
        srv.server.listen(opts.path, () => {
          srv.server.off('error', onError);
          resolve();
        });
      } finally {
        process.umask(previousUmask);
      }
    });
    try {
      chmodSync(opts.path, 0o600); // belt and braces: some filesystems ignore the umask for sockets
      const st = statSync(opts.path);
      srv.ownIdentity = `${st.dev}:${st.ino}`;
    } catch (e) {
      await new Promise<void>((resolve) => srv.server.close(() => resolve()));
      throw new ControlSocketError(`cannot secure ${opts.path}: ${(e as Error).message}`);
    }
    // A failing accept must not become an unhandled 'error' event (it would kill the gateway).
    srv.server.on('error', () => {});
    return srv;
  }

  /** Stops accepting, drops open connections and removes the socket file (if it is still ours). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      const st = statSync(this.path);
      if (`${st.dev}:${st.ino}` === this.ownIdentity) unlinkSync(this.path);
    } catch {
      // already gone (libuv unlinks a listening pipe's path on close)
    }
  }

  private accept(sock: Socket): void {
    this.connections.add(sock);
    sock.setEncoding('utf8');
    sock.setTimeout(this.idleTimeoutMs, () => sock.destroy());
    sock.on('error', () => {}); // a client that vanishes mid-answer is not our problem
    sock.on('close', () => this.connections.delete(sock));
    let buffered = '';
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== '') this.enqueue(sock, line);
        nl = buffered.indexOf('\n');
      }
      if (Buffer.byteLength(buffered) > this.maxRequestBytes) {
        buffered = '';
        this.answer(sock, badRequest(`request longer than ${this.maxRequestBytes} bytes`));
        sock.end();
      }
    });
  }

  /** Queues one request line behind every earlier one (from any connection). */
  private enqueue(sock: Socket, line: string): void {
    this.tail = this.tail
      .then(async () => {
        const reply = await this.run(line);
        this.answer(sock, reply);
      })
      .catch(() => {}); // run() never throws; this keeps the queue alive even if a write does
  }

  private async run(line: string): Promise<TcReply> {
    let argv: string[];
    try {
      argv = parseRequest(line);
    } catch (e) {
      return badRequest((e as Error).message);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<TcReply>((resolve) => {
      timer = setTimeout(
        () => resolve({ code: EXIT_HANDLER_FAILED, stdout: '', stderr: `tunqos: command timed out after ${this.requestTimeoutMs} ms\n` }),
        this.requestTimeoutMs,
      );
    });
    try {
      const reply = await Promise.race([this.invoke(argv), timeout]);
      return normaliseReply(reply);
    } catch (e) {
      return { code: EXIT_HANDLER_FAILED, stdout: '', stderr: `tunqos: ${(e as Error)?.message ?? String(e)}\n` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Calls the handler so that a synchronous throw becomes a rejected promise. */
  private async invoke(argv: string[]): Promise<TcReply> {
    return this.handler(argv);
  }

  private answer(sock: Socket, reply: TcReply): void {
    if (sock.destroyed || !sock.writable) return;
    sock.write(`${JSON.stringify(reply)}\n`);
  }
}

/** Starts a control server at `opts.path`; see ControlServer. */
export function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  return ControlServer.start(opts);
}

function badRequest(reason: string): TcReply {
  return { code: EXIT_BAD_REQUEST, stdout: '', stderr: `tunqos: bad control request: ${reason}\n` };
}

/** `{"argv": [strings]}` → argv; throws with a reason a human can act on. */
export function parseRequest(line: string): string[] {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`);
  }
  if (typeof msg !== 'object' || msg === null || !('argv' in msg)) throw new Error('expected {"argv": [...]}');
  const argv = (msg as { argv: unknown }).argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) throw new Error('"argv" must be an array of strings');
  return argv;
}

/** A handler's answer, made safe to serialise (a buggy handler must not produce an unparseable reply). */
function normaliseReply(r: TcReply): TcReply {
  const code = Number.isInteger(r?.code) ? r.code : EXIT_HANDLER_FAILED;
  return { code, stdout: typeof r?.stdout === 'string' ? r.stdout : '', stderr: typeof r?.stderr === 'string' ? r.stderr : '' };
}

/**
 * Makes `path` usable: creates its directory (0700), refuses a non-socket file or a live server,
 * and removes the socket file of a dead one.
 */
async function prepareSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new ControlSocketError(`control socket path is too long (${Buffer.byteLength(path)} bytes, max ${MAX_SOCKET_PATH_BYTES}): ${path}`);
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ControlSocketError(`cannot create the directory of ${path}: ${(e as Error).message}`);
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new ControlSocketError(`${path} exists and is not a socket; refusing to replace it`);
  const state = await probe(path);
  if (state === 'live') {
    throw new ControlSocketError(`another tunqos is already running at ${path} (stop it, or choose another --control path)`);
  }
  try {
    unlinkSync(path); // stale: its server is gone
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ControlSocketError(`cannot remove stale socket ${path}: ${(e as Error).message}`);
  }
}

/** Whether a server answers at `path` ('live') or not ('stale'); other errors (EACCES) throw. */
function probe(path: string, timeoutMs = 1000): Promise<'live' | 'stale'> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const timer = setTimeout(() => {
      // Accepting nothing within a second: a wedged process still owns it; do not steal its path.
      s.destroy();
      resolve('live');
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve('stale');
      else reject(new ControlSocketError(`cannot check ${path}: ${err.message}`));
    });
  });
}

/** No running shaper (`tunqos run`) listens at the path (nothing there, or a stale socket file). */
export class ShaperNotRunningError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`no tunqos running at ${path} (start one with tunqos run ...)`);
    this.name = 'ShaperNotRunningError';
    this.path = path;
  }
}

/**
 * Sends one tc command to the shaper (`tunqos run`) at `path` and returns its answer. Throws ShaperNotRunningError
 * when nothing listens there, and a plain Error on a timeout, a permission problem or a broken answer.
 */
export function sendTc(path: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<TcReply> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.setEncoding('utf8');
    let buffered = '';
    let settled = false;
    const finish = (err: Error | null, reply?: TcReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(reply as TcReply);
    };
    const timer = setTimeout(() => finish(new Error(`no answer from tunqos at ${path} within ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => s.write(`${JSON.stringify({ argv })}\n`));
    s.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      try {
        const r = JSON.parse(buffered.slice(0, nl)) as TcReply;
        if (typeof r.code !== 'number' || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') throw new Error('wrong shape');
        finish(null, r);
      } catch (e) {
        finish(new Error(`bad answer from tunqos at ${path}: ${(e as Error).message}`));
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') finish(new ShaperNotRunningError(path));
      else if (err.code === 'EACCES') finish(new Error(`permission denied on ${path} (run as the user that started tunqos, usually root)`));
      else finish(new Error(`cannot talk to tunqos at ${path}: ${err.message}`));
    });
    s.on('close', () => finish(new Error(`tunqos at ${path} closed the connection without answering`)));
  });
}

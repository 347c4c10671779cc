/**
 * The native addon (native/tunqos_native.cc), typed. Only src/link/ imports this module
 * (ARCHITECTURE.md, the layering rule: only link/ imports the addon), so the rest of tunqos runs, and is tested, without it.
 *
 * The addon is loaded lazily on first use: importing a link module does not require a build, and a
 * missing build produces one clear error instead of a stack trace from `require`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativePoller {
  start(): void;
  stop(): void;
  close(): void;
}

export interface NativeTimer {
  /**
   * arm for an absolute CLOCK_MONOTONIC deadline in ns (process.hrtime() time); re-arming replaces.
   * With periodNs > 0 it fires again every periodNs after that (each firing one callback, missed
   * periods folded into one) until re-armed or disarmed.
   */
  arm(absoluteNs: number, periodNs?: number): void;
  disarm(): void;
  close(): void;
}

export interface TunqosNative {
  openTun(name: string, options?: { multiQueue?: boolean }): { fd: number; name: string };
  ifMtu(name: string): number;
  /** the errno's name ('EBUSY', 'EIO', ...; 'EUNKNOWN' for one the addon does not list) */
  errnoName(errno: number): string;
  close(fd: number): void;
  /**
   * Reads up to n packets into slots ids[0..n), setting lens[id]; stops at EAGAIN. Returns the count.
   * lens[id] > slotSize means the packet was longer than a slot (its tail was discarded).
   * out[0] receives the errno of an error that stopped the batch (0: none).
   */
  readBatch(fd: number, arena: ArrayBuffer, slotSize: number, ids: Int32Array, lens: Uint32Array, n: number, out?: Int32Array): number;
  /**
   * Writes packets ids[0..n). Returns how many were consumed (written or skipped on an error); stops
   * early only when the device pushes back (EAGAIN/ENOBUFS). out[0] = last errno, out[1] = skipped,
   * out[2] = bytes written.
   */
  writeBatch(fd: number, arena: ArrayBuffer, slotSize: number, ids: Int32Array, lens: Uint32Array, n: number, out?: Int32Array): number;
  /** reads and drops up to max packets (no arena slot to put them in); returns how many */
  discard(fd: number, max: number): number;
  Poller: new (fd: number, onReadable: () => void) => NativePoller;
  Timer: new (onFire: () => void) => NativeTimer;
}

/** An Error from the addon: `code` is the errno name ('EBUSY', 'EINVAL', ...), `syscall` the failing call. */
export interface NativeError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

let cached: TunqosNative | null = null;

function addonPath(): string {
  // src/link/native.ts, or its bundle in dist/chunks/ (two levels deep too: scripts/build.mjs) -> <repo>/build/Release/tunqos_native.node
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(root, 'build', 'Release', 'tunqos_native.node');
}

export function loadNative(): TunqosNative {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`the tunqos native addon is not built (${path} is missing): run npm install`);
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as TunqosNative;
  } catch (e) {
    throw new Error(`cannot load the tunqos native addon ${path}: ${(e as Error).message} (rebuild it: run npm install)`);
  }
  return cached;
}

/**
 * The Link contract: one direction's packet source and sink (a TUN device, a raw socket, memory).
 *
 * Links move packets between the outside and arena slots, a batch per call (hot-path rule 6):
 *  - `readBatch(ids, max)` allocates arena slots, reads up to `max` ready packets into them, writes
 *    their ids into `ids[0..n)` and sets `arena.len`; returns n (0 when nothing is ready). When the
 *    arena has no free slot it stops early and counts `rxNoSlot`.
 *  - `writeBatch(ids, n)` sends packets `ids[0..n)` and FREES every one of their slots, sent or not;
 *    it returns how many were sent (the rest are counted in `txErrors`).
 *  - `onReadable(cb)` starts calling `cb` whenever packets may be ready (uv_poll on the fd); the
 *    callback reads until readBatch returns 0.
 *  - `close()` stops watching and releases the fd; calling it twice is harmless.
 * Only src/link/ imports the native addon.
 */
import type { Arena } from '../packet/arena';

export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** packets that could not be read because the arena was full */
  rxNoSlot: number;
  /** packets that could not be written (errno in lastError) */
  txErrors: number;
  /** packets longer than an arena slot, dropped on read */
  rxOversize: number;
}

export interface Link {
  readonly name: string;
  readonly mtu: number;
  readonly arena: Arena;
  readonly counters: LinkCounters;
  readBatch(ids: Int32Array, max: number): number;
  writeBatch(ids: Int32Array, n: number): number;
  onReadable(cb: () => void): void;
  close(): void;
}

export function newLinkCounters(): LinkCounters {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxNoSlot: 0, txErrors: 0, rxOversize: 0 };
}

/**
 * The child program of native-tests/addon.test.ts, run inside the test's network namespace
 * (`ip netns exec NS node addon-child.cjs MODE NAME`, with ADDON=path/to/tunqos_native.node): Node
 * cannot setns itself, so everything that creates a device runs here. Each mode prints JSON lines.
 *   open-once NAME   open the TUN, print what openTun returned, close it
 *   hold NAME        open and keep it until stdin ends (for the EBUSY test), then close
 *   roundtrip NAME   a datagram kernel → TUN (readBatch), then back TUN → kernel (writeBatch)
 */
const addon = require(process.env.ADDON);
const mode = process.argv[2], name = process.argv[3];
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const fail = (e) => say({ error: e.message, code: e.code, errno: e.errno });
if (mode === 'open-once') {
  try { const t = addon.openTun(name, {}); say(t); addon.close(t.fd); } catch (e) { fail(e); }
} else if (mode === 'hold') {
  let t;
  try { t = addon.openTun(name, {}); say(t); } catch (e) { fail(e); process.exit(0); }
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => { addon.close(t.fd); say({ closed: true }); });
} else if (mode === 'roundtrip') {
  const { execFileSync } = require('node:child_process');
  const dgram = require('node:dgram');
  const t = addon.openTun(name, {});
  execFileSync('ip', ['addr', 'add', '10.213.0.1/24', 'dev', name]);
  execFileSync('ip', ['link', 'set', 'dev', name, 'up']);
  const slot = 2048, arena = new ArrayBuffer(slot * 4), bytes = new Uint8Array(arena);
  const lens = new Uint32Array(4), ids = new Int32Array([2, 3]), out = new Int32Array(4);
  const sock = dgram.createSocket('udp4');
  sock.bind(4000, '10.213.0.1', () => {
    // 1) kernel -> TUN: a datagram to a peer routed into the device must be readable
    const poller = new addon.Poller(t.fd, () => {
      const n = addon.readBatch(t.fd, arena, slot, ids, lens, 2, out);
      // skip anything but our IPv4 datagram (IPv6 is off in the namespace, but be robust)
      let id = -1;
      for (let i = 0; i < n; i++) if (bytes[ids[i] * slot] >> 4 === 4 && bytes[ids[i] * slot + 9] === 17) { id = ids[i]; break; }
      if (id < 0) return;
      poller.close();
      if (id !== 2) { bytes.copyWithin(2 * slot, id * slot, id * slot + lens[id]); lens[2] = lens[id]; }
      const o = 2 * slot, p = bytes.subarray(o, o + lens[2]);
      const read = { len: lens[2], version: p[0] >> 4, proto: p[9], dst: Array.from(p.subarray(16, 20)).join('.'),
        payload: Buffer.from(p.subarray(28)).toString() };
      // 2) TUN -> kernel: the same packet with addresses and ports swapped comes back to our socket
      for (let i = 0; i < 4; i++) { const a = p[12 + i]; p[12 + i] = p[16 + i]; p[16 + i] = a; }
      const sp = p[20], sp2 = p[21]; p[20] = p[22]; p[21] = p[23]; p[22] = sp; p[23] = sp2;
      p[26] = 0; p[27] = 0; // no UDP checksum
      p[10] = 0; p[11] = 0; let s = 0; for (let i = 0; i < 20; i += 2) s += (p[i] << 8) | p[i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); s = ~s & 0xffff; p[10] = s >> 8; p[11] = s & 255;
      sock.on('message', (msg, rinfo) => {
        say({ read, written, echoed: msg.toString(), from: rinfo.address + ':' + rinfo.port });
        sock.close(); addon.close(t.fd);
      });
      const written = { consumed: addon.writeBatch(t.fd, arena, slot, new Int32Array([2]), lens, 1, out), errors: out[1], bytes: out[2] };
    });
    poller.start();
    sock.send('hello-tun', 5000, '10.213.0.2');
  });
  setTimeout(() => { say({ error: 'timeout' }); process.exit(1); }, 5000).unref();
}

/**
 * CPU cost of encrypting segment payloads in place, to choose how the packager's encrypt stage uses Node's
 * cipher (docs/BENCHMARKS.md, "Segment encryption"): OpenSSL's `update` always returns a new buffer, so either
 * its output is copied back over the input (one extra memcpy), or for CTR the keystream is made from zeros and
 * XOR-ed into the input in JavaScript. Also the whole `seal` of real H.264/AAC segments for each scheme.
 *
 *   npx tsx bench/encrypt/segment-cipher.bench.ts
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { loadMuxFixture } from '../../test/fixtures/mux-media.js';
import { encryptedSegments, outputFormat, type Fmp4SegmentMuxer, type TrackEncryption } from '../../src/media/packager/index.js';

const key = crypto.randomBytes(16);
const keyId = crypto.randomBytes(16);
const MB = 1024 * 1024;

/** CPU microseconds per MB over `rounds` passes of `run` on `bytes` MB, best of 5. */
function cpuPerMb(bytes: number, rounds: number, run: () => void): number {
  let best = Infinity;
  for (let trial = 0; trial < 5; trial++) {
    const before = process.cpuUsage();
    for (let r = 0; r < rounds; r++) run();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / ((rounds * bytes) / MB));
  }
  return best;
}

// A 2 MB segment of 50 samples of 40 KB, as one pooled buffer.
const sampleSize = 40 * 1024;
const samples = 50;
const payload = crypto.randomBytes(sampleSize * samples);
const views = Array.from({ length: samples }, (_, i) => payload.subarray(i * sampleSize, (i + 1) * sampleSize));
const zeros = Buffer.alloc(sampleSize);
const iv = Buffer.alloc(16);

const rows: Array<[string, number]> = [];
const rounds = 40;
rows.push([
  'CTR update, output dropped (reference)',
  cpuPerMb(payload.length, rounds, () => {
    for (const v of views) crypto.createCipheriv('aes-128-ctr', key, iv).update(v);
  }),
]);
rows.push([
  'CTR update + copy back (chosen)',
  cpuPerMb(payload.length, rounds, () => {
    for (const v of views) v.set(crypto.createCipheriv('aes-128-ctr', key, iv).update(v));
  }),
]);
rows.push([
  'CTR keystream from zeros + XOR in JS (32-bit words)',
  cpuPerMb(payload.length, rounds, () => {
    for (const v of views) {
      const ks = crypto.createCipheriv('aes-128-ctr', key, iv).update(zeros.subarray(0, v.length));
      const a = new Uint32Array(v.buffer, v.byteOffset, v.length >>> 2);
      const b = new Uint32Array(ks.buffer, ks.byteOffset, ks.length >>> 2);
      for (let i = 0; i < a.length; i++) a[i] ^= b[i];
    }
  }),
]);
rows.push([
  'CBC envelope update + copy back (chosen)',
  cpuPerMb(payload.length, rounds, () => {
    const c = crypto.createCipheriv('aes-128-cbc', key, iv);
    for (const v of views) v.set(c.update(v));
    c.final();
  }),
]);
rows.push([
  'CBC envelope update, new buffers kept',
  cpuPerMb(payload.length, rounds, () => {
    const c = crypto.createCipheriv('aes-128-cbc', key, iv);
    for (const v of views) c.update(v);
    c.final();
  }),
]);

// The whole seal (subsample map, encryption, boxes) on the fixture's segments, per scheme.
const fx = await loadMuxFixture('h264-aac');
const row = outputFormat('mpd-time-cmaf').segments as Fmp4SegmentMuxer;
const fd = fs.openSync(fx.file, 'r');
const read = (ranges: Array<{ offset: number; length: number }>) =>
  ranges.map((r) => {
    const b = Buffer.allocUnsafe(r.length);
    fs.readSync(fd, b, 0, r.length, r.offset);
    return b;
  });
for (const scheme of ['clear', 'cenc', 'cbcs', 'aes-128'] as const) {
  const enc: TrackEncryption | undefined = scheme === 'clear' ? undefined : { scheme, keyId, key };
  const muxer = encryptedSegments(row, enc);
  let bytes = 0;
  const work = fx.tracks.flatMap((track, t) =>
    fx.segments[t].map((segment) => {
      const plan = muxer.plan(track, segment);
      const source = read(plan.ranges);
      for (const b of source) bytes += b.length;
      return { track, segment, source };
    }),
  );
  // Each pass re-encrypts the same buffers: the cost is the same whatever their contents.
  rows.push([
    `seal of the fixture's segments, ${scheme} (plan + seal)`,
    cpuPerMb(bytes, 20, () => {
      for (const w of work) muxer.plan(w.track, w.segment).seal(w.source);
    }),
  ]);
}
fs.closeSync(fd);

const width = Math.max(...rows.map(([name]) => name.length));
process.stdout.write(`Segment encryption, CPU µs per MB (best of 5), Node ${process.version}\n`);
for (const [name, us] of rows) process.stdout.write(`${name.padEnd(width)}  ${us.toFixed(0).padStart(6)}\n`);

/**
 * CPU cost of encrypting segment payloads in place, to choose how the packager's encrypt stage uses Node's
 * cipher (docs/BENCHMARKS.md, "Segment encryption"): OpenSSL's `update` always returns a new buffer, so either
 * its output is copied back over the input (one extra memcpy), or for CTR the keystream is made from zeros and
 * XOR-ed into the input in JavaScript; one large `update` or 64 KB slices. Also the whole `seal` of real H.264/AAC
 * segments for each scheme: the test fixture's, and CPU ms per 2 s 1080p 5 Mbit/s video segment.
 *
 *   npx tsx bench/encrypt/segment-cipher.bench.ts
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadMuxFixture } from '../../test/fixtures/mux-media.js';
import { benchCacheDir } from '../origin/media.js';
import { encryptedSegments, outputFormat, readMp4Index, segmentTracks, type Fmp4SegmentMuxer, type TrackEncryption } from '../../src/media/packager/index.js';

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
  'CTR update + copy back, 40 KB samples (chosen)',
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
// A large range (a key frame, or a whole segment's payload for the envelope): one update, or 64 KB slices.
const big = payload.subarray(0, 1_300_000);
rows.push(['CTR one update of 1.3 MB + copy back', cpuPerMb(big.length, rounds, () => big.set(crypto.createCipheriv('aes-128-ctr', key, iv).update(big)))]);
rows.push([
  'CTR 1.3 MB in 64 KB updates + copy back (chosen)',
  cpuPerMb(big.length, rounds, () => {
    const c = crypto.createCipheriv('aes-128-ctr', key, iv);
    for (let at = 0; at < big.length; at += 65536) {
      const v = big.subarray(at, Math.min(at + 65536, big.length));
      v.set(c.update(v));
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

/**
 * 6 s of 1080p 25 fps H.264 at 5 Mbit/s (the protection benchmark's recipe: testsrc2 + temporal noise, 2 s GOPs),
 * cut into 2 s segments of ~1.3 MB: CPU ms per video segment of `plan` + `seal`, best of 10 passes of 20 rounds.
 */
function make1080p(): string {
  const file = path.join(benchCacheDir, 'encrypt-1080p-5000k-6s.mp4');
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(benchCacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '5000k', '-maxrate', '5000k', '-bufsize', '10000k'];
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=25:duration=6,noise=alls=20:allf=t'],
    ...[...x264, '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', tmp],
  ]);
  fs.renameSync(tmp, file);
  return file;
}
const hdFile = make1080p();
const hdFd = fs.openSync(hdFile, 'r');
const hdIndex = await readMp4Index(fs.fstatSync(hdFd).size, async (offset, length) => {
  const b = new Uint8Array(length);
  fs.readSync(hdFd, b, 0, length, offset);
  return b;
});
const hdVideo = hdIndex.tracks.findIndex((t) => t.kind === 'video');
const hdSegments = segmentTracks(hdIndex.tracks, 2).map((l) => l.toArray())[hdVideo];
const perSegment: Array<[string, number]> = [];
let hdBytes = 0;
for (const scheme of ['clear', 'cenc', 'cbcs', 'aes-128'] as const) {
  const enc: TrackEncryption | undefined = scheme === 'clear' ? undefined : { scheme, keyId, key };
  const muxer = encryptedSegments(row, enc);
  const track = hdIndex.tracks[hdVideo];
  const work = hdSegments.map((segment) => {
    const source = muxer.plan(track, segment).ranges.map((r) => {
      const b = Buffer.allocUnsafe(r.length);
      fs.readSync(hdFd, b, 0, r.length, r.offset);
      return b;
    });
    return { segment, source };
  });
  hdBytes = work.reduce((n, w) => n + w.source.reduce((m, b) => m + b.length, 0), 0) / work.length;
  let best = Infinity;
  for (let trial = 0; trial < 10; trial++) {
    const before = process.cpuUsage();
    for (let r = 0; r < 20; r++) for (const w of work) muxer.plan(track, w.segment).seal(w.source);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000 / (20 * work.length));
  }
  perSegment.push([`1080p 5 Mbit/s video segment, ${scheme} (plan + seal)`, best]);
}
fs.closeSync(hdFd);

const width = Math.max(...rows.map(([name]) => name.length));
process.stdout.write(`Segment encryption, CPU µs per MB (best of 5), Node ${process.version}\n`);
for (const [name, us] of rows) process.stdout.write(`${name.padEnd(width)}  ${us.toFixed(0).padStart(6)}\n`);
process.stdout.write(`\nCPU ms per 2 s video segment (${(hdBytes / 1024 / 1024).toFixed(2)} MB average; best of 10)\n`);
const hdWidth = Math.max(...perSegment.map(([name]) => name.length));
for (const [name, ms] of perSegment) process.stdout.write(`${name.padEnd(hdWidth)}  ${ms.toFixed(2).padStart(6)}\n`);

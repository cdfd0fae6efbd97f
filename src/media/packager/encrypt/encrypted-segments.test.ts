import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { decryptSegment, readProtection } from '../../../../test/fixtures/cenc-decryptor.js';
import { box, boxes, fillPlan, loadMuxFixture, makeMuxMp4, md5, readSamples, tempDir, type MuxFixture } from '../../../../test/fixtures/mux-media.js';
import { encryptedSegments, outputFormat, type TrackEncryption } from '../index.js';
import type { ManifestFormat } from '../mux/manifest/manifest-context.js';
import type { Fmp4SegmentMuxer, TsSegmentMuxer } from '../output-formats.js';
import type { TrackIndex } from '../model/media-index.js';
import type { TrackSegment } from '../model/segment.js';
import { cbcsConstantIv, envelopeIv } from './track-encryption.js';
import { MAX_SUBSAMPLES, subsamplesOf } from './subsamples.js';
import { avcSliceHeaderLength, readAvcParameterSets } from './avc-slice-header.js';
import { findSampleEntryChild } from '../mux/ts/sample-entry.js';
import { makeH264BFramesMp4 } from '../../../../test/fixtures/packager-media.js';
import { readMp4Index } from '../parse/mp4/read-mp4-index.js';

const key = Buffer.from('3a1f9c2e7b604d18a5e2c9f04b6d7e81', 'hex');
const keyId = Buffer.from('6f2d1c9a8e7b4c3d9f0a1b2c3d4e5f60', 'hex');
/** A pssh box as someone else builds it (opaque here): version 0, the W3C ClearKey system id, no data. */
const clearKeyPssh = Buffer.concat([
  Buffer.from([0, 0, 0, 32]),
  Buffer.from('pssh'),
  Buffer.from([0, 0, 0, 0]),
  Buffer.from('e2719d58a985b3c9781ab030af78d30e', 'hex'),
  Buffer.from([0, 0, 0, 0]),
]);

function fmp4(format: ManifestFormat): Fmp4SegmentMuxer {
  const segments = outputFormat(format).segments;
  if (segments.container !== 'fmp4') throw new Error(`${format} is not fMP4`);
  return segments;
}

/** Reads each planned range from the file into a buffer of its own (as the origin reads into pooled ones). */
function readRanges(file: string, ranges: Array<{ offset: number; length: number }>): Buffer[] {
  const fd = fs.openSync(file, 'r');
  try {
    return ranges.map((r) => {
      const b = Buffer.alloc(r.length);
      assert.equal(fs.readSync(fd, b, 0, r.length, r.offset), r.length);
      return b;
    });
  } finally {
    fs.closeSync(fd);
  }
}

interface Built {
  init: Uint8Array;
  segments: Uint8Array[];
  plannedSizes: Array<number | undefined>;
}

function buildEncrypted(fx: MuxFixture, t: number, format: ManifestFormat, enc: TrackEncryption | undefined): Built {
  const muxer = encryptedSegments(fmp4(format), enc);
  const track = fx.tracks[t];
  const segments: Uint8Array[] = [];
  const plannedSizes: Array<number | undefined> = [];
  for (const segment of fx.segments[t]) {
    const plan = muxer.plan(track, segment);
    plannedSizes.push(plan.size);
    segments.push(Buffer.concat(plan.seal(readRanges(fx.file, plan.ranges))));
  }
  return { init: muxer.init(track), segments, plannedSizes };
}

function buildClear(fx: MuxFixture, t: number, format: ManifestFormat): Built {
  const muxer = fmp4(format);
  const track = fx.tracks[t];
  const segments = fx.segments[t].map((s) => Buffer.from(fillPlan(fx.file, muxer.plan(track, s))));
  return { init: muxer.init(track), segments, plannedSizes: segments.map((s) => s.byteLength) };
}

async function indexFile(file: string): Promise<TrackIndex[]> {
  const bytes = fs.readFileSync(file);
  return (await readMp4Index(bytes.length, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)))).tracks;
}

function write(dir: string, name: string, built: Built): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, Buffer.concat([built.init, ...built.segments]));
  return file;
}

/**
 * ffmpeg's per-packet MD5s (`-c copy -f framemd5`), reading the file from a pipe. Debian 12's ffmpeg 5.1 decrypts
 * `cenc` and `cbcs` with `-decryption_key`, but from a seekable file it reads every `moof` ahead and then looks up
 * the encryption info of the wrong fragment; from a pipe it reads them in order.
 */
function packetMd5s(file: string, decryptionKey?: Buffer): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', ...(decryptionKey ? ['-decryption_key', decryptionKey.toString('hex')] : []), '-i', 'pipe:0'];
  args.push('-map', '0:0', '-c', 'copy', '-f', 'framemd5', '-');
  const result = spawnSync('ffmpeg', args, { input: fs.readFileSync(file), maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').map((f) => f.trim())[5]);
}

/** Decoded-frame MD5s of the first stream (the decoder accepts the decrypted bitstream). */
function decodedMd5s(file: string, decryptionKey?: Buffer): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', ...(decryptionKey ? ['-decryption_key', decryptionKey.toString('hex')] : []), '-i', 'pipe:0'];
  args.push('-map', '0:0', '-fps_mode', 'passthrough', '-f', 'framemd5', '-');
  const result = spawnSync('ffmpeg', args, { input: fs.readFileSync(file), maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.split(',').map((f) => f.trim())[5]);
}

/** ffmpeg's `trace_headers` count of RBSP bits up to the end of each H.264 slice header, in decode order. */
function sliceHeaderBits(file: string): number[] {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-i', file, '-map', '0:v:0', '-c', 'copy', '-bsf:v', 'trace_headers', '-f', 'null', '-'], {
    maxBuffer: 256 << 20,
  });
  const out: number[] = [];
  let inSlice = false;
  for (const line of result.stderr.toString().split('\n')) {
    const text = line.replace(/^\[trace_headers @ [^\]]+\] /, '');
    if (/^[A-Z]/.test(text)) {
      inSlice = text.startsWith('Slice Header');
      if (inSlice) out.push(0);
      continue;
    }
    const m = /^(\d+)\s+(\S+)\s+([01]+) = /.exec(text);
    if (inSlice && m && m[2] !== 'cabac_alignment_one_bit') out[out.length - 1] = Math.max(out[out.length - 1], Number(m[1]) + m[3].length);
  }
  return out;
}

describe('packager encrypt stage: cenc and cbcs fMP4', () => {
  let fx: MuxFixture;
  let dir: string;
  before(async () => {
    fx = await loadMuxFixture('h264-aac');
    dir = tempDir('encrypt');
  });

  for (const scheme of ['cenc', 'cbcs'] as const) {
    describe(scheme, () => {
      const enc: TrackEncryption = { scheme, keyId, key, pssh: [clearKeyPssh] };

      it('ffmpeg -decryption_key gives back every clear packet and the decoder the same frames (video and audio)', () => {
        for (let t = 0; t < fx.tracks.length; t++) {
          const clearFile = write(dir, `${scheme}-${t}-clear.mp4`, buildClear(fx, t, 'mpd-time-cmaf'));
          const encFile = write(dir, `${scheme}-${t}-enc.mp4`, buildEncrypted(fx, t, 'mpd-time-cmaf', enc));
          const clear = packetMd5s(clearFile);
          assert.ok(clear.length > 50, `${fx.tracks[t].kind}: ${clear.length} packets`);
          assert.deepEqual(packetMd5s(encFile, key), clear, `${fx.tracks[t].kind}: decrypted packets`);
          // Without the key every packet differs: the samples are encrypted.
          const raw = packetMd5s(encFile);
          assert.equal(raw.filter((h, i) => h === clear[i]).length, 0, `${fx.tracks[t].kind}: no packet left clear`);
          // Wrong key: no longer the clear packets.
          assert.notDeepEqual(packetMd5s(encFile, Buffer.alloc(16, 7)), clear);
          assert.deepEqual(decodedMd5s(encFile, key), decodedMd5s(clearFile), `${fx.tracks[t].kind}: decoded frames`);
        }
      });

      it('own decryptor: boxes agree (tenc, senc, saiz, saio, trun) and samples decrypt to the source bytes', () => {
        for (let t = 0; t < fx.tracks.length; t++) {
          const track = fx.tracks[t];
          const built = buildEncrypted(fx, t, 'm3u8-cmaf', enc);
          const p = readProtection(built.init);
          assert.equal(p.scheme, scheme);
          assert.equal(p.keyId, keyId.toString('hex'));
          assert.equal(p.entryType, track.kind === 'video' ? 'encv' : 'enca');
          assert.equal(p.originalFormat, track.fourcc);
          assert.deepEqual(p.psshSystemIds, ['e2719d58a985b3c9781ab030af78d30e']);
          if (scheme === 'cenc') {
            assert.equal(p.tencVersion, 0);
            assert.equal(p.perSampleIvSize, 8);
          } else {
            assert.equal(p.tencVersion, 1);
            assert.equal(p.perSampleIvSize, 0);
            assert.deepEqual(p.constantIv, Buffer.from(cbcsConstantIv(keyId)));
            assert.deepEqual([p.cryptBlocks, p.skipBlocks], track.kind === 'video' ? [1, 9] : [0, 0]);
          }
          const ivs = new Set<string>();
          built.segments.forEach((segment, k) => {
            const s = fx.segments[t][k];
            const source = readSamples(fx.file, track, s.firstSample, s.sampleCount);
            const samples = decryptSegment(segment, p, key);
            assert.equal(samples.length, source.length);
            samples.forEach((sample, i) => {
              assert.equal(md5(sample.bytes), md5(source[i]), `segment ${k} sample ${i}`);
              if (scheme === 'cenc') ivs.add(sample.iv.toString('hex'));
              if (track.kind === 'video') {
                for (const [, prot] of sample.subsamples) assert.equal(prot % 16, 0, 'protected ranges are whole blocks');
                assert.ok(
                  sample.subsamples.some(([, prot]) => prot > 0),
                  'each frame has protected bytes',
                );
              } else assert.deepEqual(sample.subsamples, [], 'audio: whole-sample');
            });
            // The planned size: known before the read for audio; for video it is what seal produced.
            if (track.kind === 'audio') assert.equal(built.plannedSizes[k], segment.byteLength);
            else assert.equal(built.plannedSizes[k], undefined);
          });
          if (scheme === 'cenc') assert.equal(ivs.size, track.samples.count, 'a distinct IV for every sample of the track');
        }
      });

      it('video: NAL lengths, NAL headers and slice headers (as ffmpeg reads them) stay clear; non-VCL NAL units wholly clear', () => {
        const t = fx.tracks.findIndex((x) => x.kind === 'video');
        const track = fx.tracks[t];
        const built = buildEncrypted(fx, t, 'mpd-time-cmaf', enc);
        const s = fx.segments[t][0];
        const source = readSamples(fx.file, track, s.firstSample, s.sampleCount).map((x) => Buffer.from(x));
        const mdat = boxes(built.segments[0]).find((b) => b.type === 'mdat')!.body;
        const headerBits = sliceHeaderBits(fx.file);
        let slice = 0;
        let at = 0;
        for (const sample of source) {
          const cipher = mdat.subarray(at, at + sample.byteLength);
          at += sample.byteLength;
          let o = 0;
          while (o < sample.byteLength) {
            const length = sample.readUInt32BE(o);
            const type = sample[o + 4] & 0x1f;
            const isSlice = type >= 1 && type <= 5;
            // ffmpeg's count of header bits, in bytes (the fixture's headers hold no emulation prevention byte).
            const clearBytes = isSlice ? 4 + Math.ceil(headerBits[slice++] / 8) : 4 + length;
            assert.deepEqual(Buffer.from(cipher.subarray(o, o + clearBytes)), sample.subarray(o, o + clearBytes), `NAL type ${type} at ${o}`);
            if (isSlice)
              assert.ok(
                length - clearBytes + 4 < 16 ||
                  !Buffer.from(cipher.subarray(o + clearBytes, o + 4 + length)).equals(sample.subarray(o + clearBytes, o + 4 + length)),
              );
            o += 4 + length;
          }
        }
      });

      it('is byte-identical when rebuilt, different under another key id or IV tag, and clear tracks stay clear', () => {
        const t = fx.tracks.findIndex((x) => x.kind === 'video');
        const a = buildEncrypted(fx, t, 'smooth', enc);
        const b = buildEncrypted(fx, t, 'smooth', { ...enc });
        assert.deepEqual(a.init, b.init);
        assert.deepEqual(a.segments, b.segments);
        const otherTag = buildEncrypted(fx, t, 'smooth', { ...enc, trackTag: 'other' });
        if (scheme === 'cenc') assert.notDeepEqual(otherTag.segments[0], a.segments[0]);
        const clear = buildClear(fx, t, 'smooth');
        assert.deepEqual(buildEncrypted(fx, t, 'smooth', undefined), clear);
      });

      it('works with every fMP4 row (CSF brands, no styp) and keeps their layout', () => {
        const t = fx.tracks.findIndex((x) => x.kind === 'audio');
        const csf = buildEncrypted(fx, t, 'mpd-time-csf', enc);
        assert.equal(boxes(csf.segments[0])[0].type, 'moof');
        assert.equal(Buffer.from(box(csf.init, 'ftyp').body.subarray(0, 4)).toString(), 'iso5');
        const p = readProtection(csf.init);
        const s = fx.segments[t][1];
        const source = readSamples(fx.file, fx.tracks[t], s.firstSample, s.sampleCount);
        assert.deepEqual(
          decryptSegment(csf.segments[1], p, key).map((x) => md5(x.bytes)),
          source.map(md5),
        );
      });
    });
  }

  it('text tracks stay clear', () => {
    const text: TrackIndex = { ...fx.tracks[1], kind: 'text', fourcc: 'wvtt' };
    const muxer = encryptedSegments(fmp4('mpd-time-cmaf'), { scheme: 'cenc', keyId, key });
    const segment = fx.segments[1][0];
    const plan = muxer.plan(text, segment);
    const clear = fmp4('mpd-time-cmaf').plan(text, segment);
    assert.equal(plan.size, clear.size);
    assert.deepEqual(Buffer.concat(plan.seal(readRanges(fx.file, plan.ranges))), Buffer.from(fillPlan(fx.file, clear)));
    assert.deepEqual(muxer.init(text), fmp4('mpd-time-cmaf').init(text));
  });

  it('refuses keys that are not 16 bytes and cenc/cbcs in MPEG-TS', () => {
    assert.throws(() => encryptedSegments(fmp4('m3u8-cmaf'), { scheme: 'cenc', keyId, key: key.subarray(0, 8) }), /16-byte/);
    assert.throws(() => encryptedSegments(outputFormat('m3u8-aapl').segments as TsSegmentMuxer, { scheme: 'cbcs', keyId, key }), /AES-128/);
  });
});

describe('packager encrypt stage: HEVC video, AC-3 and E-AC-3 audio', () => {
  it('cenc and cbcs decrypt to the source samples (own decryptor for every track, ffmpeg for the HEVC video)', async () => {
    const fx = await loadMuxFixture('hevc-ac3');
    const dir = tempDir('encrypt-hevc');
    for (const scheme of ['cenc', 'cbcs'] as const) {
      const enc: TrackEncryption = { scheme, keyId, key };
      for (let t = 0; t < fx.tracks.length; t++) {
        const track = fx.tracks[t];
        const built = buildEncrypted(fx, t, 'mpd-time-cmaf', enc);
        const p = readProtection(built.init);
        assert.equal(p.originalFormat, track.fourcc);
        built.segments.forEach((segment, k) => {
          const s = fx.segments[t][k];
          const source = readSamples(fx.file, track, s.firstSample, s.sampleCount);
          assert.deepEqual(
            decryptSegment(segment, p, key).map((x) => md5(x.bytes)),
            source.map(md5),
            `${track.fourcc} segment ${k}`,
          );
        });
        if (track.kind === 'video') {
          const clear = packetMd5s(write(dir, `${scheme}-clear.mp4`, buildClear(fx, t, 'mpd-time-cmaf')));
          assert.deepEqual(packetMd5s(write(dir, `${scheme}-enc.mp4`, built), key), clear);
        }
      }
    }
  });
});

describe('packager encrypt stage: H.264 slice headers', () => {
  it('measures every slice header as ffmpeg does (I, P with weighted prediction, B; two encodes)', async () => {
    for (const file of [makeMuxMp4('h264-aac'), makeH264BFramesMp4()]) {
      const fx = await loadMuxFixture('h264-aac');
      const index = fx.file === file ? fx.tracks : await indexFile(file);
      const track = index.find((t) => t.kind === 'video')!;
      const sets = readAvcParameterSets(findSampleEntryChild(track, 'avcC')!);
      const expected = sliceHeaderBits(file);
      const got: Array<number | undefined> = [];
      for (const sample of readSamples(file, track, 0, track.samples.count)) {
        const b = Buffer.from(sample);
        for (let o = 0; o < b.length; o += 4 + b.readUInt32BE(o)) {
          const type = b[o + 4] & 0x1f;
          if (type >= 1 && type <= 5) got.push(avcSliceHeaderLength(b.subarray(o + 4, o + 4 + b.readUInt32BE(o)), sets)?.bits);
        }
      }
      assert.ok(expected.length >= 100, `${expected.length} slices`);
      assert.deepEqual(got, expected, file);
    }
  });
});

describe('packager encrypt stage: subsample map', () => {
  const layout = { codec: 'avc' as const, nalLengthSize: 4 };
  const nal = (type: number, length: number) => {
    const b = Buffer.alloc(4 + length, 0xab);
    b.writeUInt32BE(length);
    b[4] = 0x60 | type;
    return b;
  };

  it('keeps non-VCL units clear, protects whole blocks to the end of each slice, merges clear runs', () => {
    const sample = Buffer.concat([nal(6, 20), nal(5, 1000), nal(1, 50), nal(1, 300)]);
    const out: number[] = [];
    const n = subsamplesOf(layout, sample, out, 0);
    // slice 1: 1004 bytes, leader 68 → 936 protected (58.5 blocks → 928); the 50-byte slice is below leader + 16.
    assert.deepEqual(out, [24 + 1004 - 928, 928, 54 + 304 - 224, 224]);
    assert.equal(n, 2);
    assert.equal(
      out.reduce((a, b) => a + b, 0),
      sample.length,
    );
  });

  it('splits clear runs over 65535 bytes and caps the pairs a sample carries', () => {
    const big = Buffer.concat([nal(6, 70000), nal(5, 500)]);
    const out: number[] = [];
    subsamplesOf(layout, big, out, 0);
    assert.equal(out[0], 65535);
    assert.equal(out[1], 0);
    assert.equal(
      out.reduce((a, b) => a + b, 0),
      big.length,
    );
    const many = Buffer.concat(Array.from({ length: 60 }, () => nal(1, 200)));
    const capped: number[] = [];
    const pairs = subsamplesOf(layout, many, capped, 0);
    assert.ok(pairs <= MAX_SUBSAMPLES, `${pairs} pairs`);
    assert.equal(
      capped.reduce((a, b) => a + b, 0),
      many.length,
    );
  });

  it('rejects a NAL unit that runs past its sample', () => {
    const bad = nal(5, 100).subarray(0, 50);
    assert.throws(() => subsamplesOf(layout, bad, [], 7), /sample 7/);
  });
});

describe('packager encrypt stage: HLS AES-128 envelope', () => {
  let fx: MuxFixture;
  let dir: string;
  before(async () => {
    fx = await loadMuxFixture('h264-aac');
    dir = tempDir('envelope');
  });
  const enc: TrackEncryption = { scheme: 'aes-128', keyId, key };
  const opensslDecrypt = (file: string, segmentIndex: number): Buffer =>
    execFileSync('openssl', [
      'enc',
      '-d',
      '-aes-128-cbc',
      '-K',
      key.toString('hex'),
      '-iv',
      Buffer.from(envelopeIv(segmentIndex)).toString('hex'),
      '-in',
      file,
    ]);
  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

  it('fMP4 (m3u8-cmaf): init stays clear, each segment decrypts (node and openssl) to the clear segment, size planned', () => {
    for (let t = 0; t < fx.tracks.length; t++) {
      const clear = buildClear(fx, t, 'm3u8-cmaf');
      const muxer = encryptedSegments(fmp4('m3u8-cmaf'), enc);
      assert.deepEqual(muxer.init(fx.tracks[t]), clear.init);
      fx.segments[t].forEach((segment, k) => {
        const plan = muxer.plan(fx.tracks[t], segment);
        const body = Buffer.concat(plan.seal(readRanges(fx.file, plan.ranges)));
        assert.equal(plan.size, body.length, 'size known before the read');
        assert.equal(body.length % 16, 0);
        assert.ok(body.length > clear.segments[k].byteLength);
        const decipher = crypto.createDecipheriv('aes-128-cbc', key, envelopeIv(segment.index));
        assert.deepEqual(Buffer.concat([decipher.update(body), decipher.final()]), Buffer.from(clear.segments[k]));
        if (hasOpenssl) {
          const file = path.join(dir, `seg-${t}-${k}.m4s`);
          fs.writeFileSync(file, body);
          assert.deepEqual(opensslDecrypt(file, segment.index), Buffer.from(clear.segments[k]));
        }
      });
    }
  });

  it('MPEG-TS (m3u8-aapl): each segment decrypts to the clear TS, IV = media sequence number', () => {
    const ts = outputFormat('m3u8-aapl').segments as TsSegmentMuxer;
    const muxer = encryptedSegments(ts, enc);
    for (let t = 0; t < fx.tracks.length; t++) {
      const track = fx.tracks[t];
      fx.segments[t].forEach((segment: TrackSegment, k) => {
        const clearPlan = ts.plan(track, segment);
        const clear = Buffer.concat(ts.write(track, segment, clearPlan, readRanges(fx.file, clearPlan.ranges)));
        const plan = muxer.plan(track, segment);
        const body = Buffer.concat(muxer.write(track, segment, plan, readRanges(fx.file, plan.ranges)));
        assert.equal(body.length, clear.length - (clear.length % 16) + 16);
        const decipher = crypto.createDecipheriv('aes-128-cbc', key, envelopeIv(k));
        assert.deepEqual(Buffer.concat([decipher.update(body), decipher.final()]), clear);
        if (hasOpenssl && k === 1) {
          const file = path.join(dir, `seg-${t}-${k}.ts`);
          fs.writeFileSync(file, body);
          assert.deepEqual(opensslDecrypt(file, k), clear);
        }
      });
    }
  });

  it('envelope IV is the segment index as a 128-bit big-endian integer', () => {
    assert.equal(Buffer.from(envelopeIv(0)).toString('hex'), '0'.repeat(32));
    assert.equal(Buffer.from(envelopeIv(258)).toString('hex'), '0'.repeat(28) + '0102');
    assert.equal(Buffer.from(envelopeIv(2 ** 40)).toString('hex'), '0'.repeat(20) + '010000000000');
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decryptSegment, readProtection } from '../../../test/fixtures/cenc-decryptor.js';
import { makeMuxMp4, md5, readSamples, tempDir } from '../../../test/fixtures/mux-media.js';
import { synthesizedManifestName } from '../../shared/asset-layout.js';
import { LocalBlobStore } from '../../storage/drivers/local.js';
import { envelopeIv, outputFormat, type PresentationTrack, type TrackEncryption } from '../packager/index.js';
import { FragmentBuilder, fragmentEtag } from './fragment-builder.js';
import { PresentationBuilder, type AssetLocation, type BuiltPresentation } from './presentation-builder.js';
import type { SegmentBody } from './segment-body.js';

const keyId = Buffer.from('11112222333344445555666677778888', 'hex');
const key = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex');
const otherKey = Buffer.from('b0b1b2b3b4b5b6b7b8b9babbbcbdbebf', 'hex');

const bytesOf = (body: SegmentBody): Buffer => {
  const out = Buffer.concat(body.chunks);
  assert.equal(out.length, body.size, 'Content-Length (body.size) is the bytes sent');
  return out;
};

describe('origin FragmentBuilder with encryption', () => {
  let loc: AssetLocation;
  let presentation: BuiltPresentation;
  let video: PresentationTrack;
  let audio: PresentationTrack;
  let file: string;
  let store: LocalBlobStore;

  before(async () => {
    const dir = tempDir('fragment-enc');
    fs.mkdirSync(path.join(dir, 'media'));
    file = path.join(dir, 'media', 'movie.mp4');
    fs.copyFileSync(makeMuxMp4('h264-aac'), file);
    store = new LocalBlobStore({ path: dir, allowedRoots: [dir] });
    loc = { accountId: 'test', store, container: 'media', prefix: '' };
    const builder = new PresentationBuilder({ segmentDurationSec: 1, indexCacheBytes: 1 << 20, presentationTtlMs: 60_000 });
    presentation = await builder.get(loc, synthesizedManifestName);
    video = presentation.tracks.find((t) => t.kind === 'video')!;
    audio = presentation.tracks.find((t) => t.kind === 'audio')!;
  });
  after(async () => {
    await store?.close?.();
  });

  /** Builds (or answers from cache) a segment as the origin's handler does: ETag, cache key, build. */
  const serve = async (
    fragments: FragmentBuilder,
    track: PresentationTrack,
    start: number | 'init',
    format: 'mpd-time-cmaf' | 'm3u8-aapl',
    enc?: TrackEncryption,
  ) => {
    const row = outputFormat(format);
    const etag = fragmentEtag(presentation, track, start, row, enc);
    const cacheKey = fragments.key(loc, etag, track, enc);
    const body = fragments.cached(cacheKey) ?? (await fragments.build(cacheKey, loc, track, start, row, presentation.files.get(track.sourceFile)?.etag, enc));
    return { etag, cacheKey, body, bytes: bytesOf(body) };
  };

  it('cenc: init and media segments decrypt to the source samples; size exact; rebuilt byte-identical', async () => {
    const enc: TrackEncryption = { scheme: 'cenc', keyId, key };
    for (const track of [video, audio]) {
      const a = new FragmentBuilder(64 << 20);
      const init = await serve(a, track, 'init', 'mpd-time-cmaf', enc);
      const protection = readProtection(init.bytes);
      for (let k = 0; k < track.segments.length; k++) {
        const s = track.segments.at(k);
        const seg = await serve(a, track, s.startTicks, 'mpd-time-cmaf', enc);
        const source = readSamples(file, track.track, s.firstSample, s.sampleCount);
        assert.deepEqual(
          decryptSegment(seg.bytes, protection, key).map((x) => md5(x.bytes)),
          source.map(md5),
          `${track.kind} segment ${k}`,
        );
        // A new builder (nothing cached) writes the same bytes: ETags stay true.
        const again = await serve(new FragmentBuilder(64 << 20), track, s.startTicks, 'mpd-time-cmaf', enc);
        assert.deepEqual(again.bytes, seg.bytes);
        assert.equal(again.etag, seg.etag);
      }
    }
  });

  it('a clear and an encrypted request of one segment never share a cache entry or an ETag, nor two keys', async () => {
    const fragments = new FragmentBuilder(64 << 20);
    const start = video.segments.startTicks[1];
    const clear = await serve(fragments, video, start, 'mpd-time-cmaf');
    const cenc = await serve(fragments, video, start, 'mpd-time-cmaf', { scheme: 'cenc', keyId, key });
    const cbcs = await serve(fragments, video, start, 'mpd-time-cmaf', { scheme: 'cbcs', keyId, key });
    const otherKeySameId = await serve(fragments, video, start, 'mpd-time-cmaf', { scheme: 'cenc', keyId, key: otherKey });
    const otherId = await serve(fragments, video, start, 'mpd-time-cmaf', { scheme: 'cenc', keyId: crypto.randomBytes(16), key });
    const all = [clear, cenc, cbcs, otherKeySameId, otherId];
    assert.equal(new Set(all.map((x) => x.cacheKey)).size, all.length, 'cache keys');
    assert.equal(new Set(all.map((x) => md5(x.bytes))).size, all.length, 'bodies');
    // The ETag is public: scheme and key id, never the key (same key id, other key: same ETag, other cache entry).
    assert.equal(new Set([clear, cenc, cbcs, otherId].map((x) => x.etag)).size, 4, 'ETags');
    assert.match(cenc.etag, new RegExp(`-cenc\\.${keyId.toString('hex')}\\.`));
    assert.ok(!cenc.etag.includes(key.toString('hex')) && !cenc.cacheKey.includes(key.toString('hex')));
    // Asked again, each is its own cached body.
    assert.equal(fragments.cached(cenc.cacheKey), cenc.body);
    assert.equal(fragments.cached(clear.cacheKey), clear.body);
    // The clear path is unchanged: no encryption tag at all.
    assert.equal(clear.etag, fragmentEtag(presentation, video, start, outputFormat('mpd-time-cmaf')));
    assert.equal(clear.cacheKey, fragments.key(loc, clear.etag, video));
  });

  it('pssh boxes are part of the init segment, its ETag and its cache key', async () => {
    const fragments = new FragmentBuilder(64 << 20);
    const pssh = (systemId: string) =>
      Buffer.concat([Buffer.from([0, 0, 0, 32]), Buffer.from('pssh'), Buffer.alloc(4), Buffer.from(systemId, 'hex'), Buffer.alloc(4)]);
    const a = await serve(fragments, video, 'init', 'mpd-time-cmaf', { scheme: 'cenc', keyId, key, pssh: [pssh('e2719d58a985b3c9781ab030af78d30e')] });
    const b = await serve(fragments, video, 'init', 'mpd-time-cmaf', { scheme: 'cenc', keyId, key, pssh: [pssh('edef8ba979d64acea3c827dcd51d21ed')] });
    assert.notEqual(a.etag, b.etag);
    assert.notEqual(a.cacheKey, b.cacheKey);
    assert.deepEqual(readProtection(a.bytes).psshSystemIds, ['e2719d58a985b3c9781ab030af78d30e']);
    assert.deepEqual(readProtection(b.bytes).psshSystemIds, ['edef8ba979d64acea3c827dcd51d21ed']);
  });

  it('AES-128: fMP4 and MPEG-TS segments decrypt to the clear ones; fMP4 init stays clear', async () => {
    const fragments = new FragmentBuilder(64 << 20);
    const enc: TrackEncryption = { scheme: 'aes-128', keyId, key };
    for (const format of ['mpd-time-cmaf', 'm3u8-aapl'] as const) {
      for (const track of [video, audio]) {
        for (let k = 0; k < track.segments.length; k++) {
          const start = track.segments.startTicks[k];
          const clear = await serve(fragments, track, start, format);
          const encrypted = await serve(fragments, track, start, format, enc);
          assert.equal(encrypted.bytes.length, clear.bytes.length - (clear.bytes.length % 16) + 16);
          const decipher = crypto.createDecipheriv('aes-128-cbc', key, envelopeIv(k));
          assert.deepEqual(Buffer.concat([decipher.update(encrypted.bytes), decipher.final()]), clear.bytes, `${format} ${track.kind} ${k}`);
        }
      }
    }
    const init = await serve(fragments, video, 'init', 'mpd-time-cmaf', enc);
    assert.deepEqual(init.bytes, (await serve(fragments, video, 'init', 'mpd-time-cmaf')).bytes);
  });

  it('refuses cenc in MPEG-TS with a 400', async () => {
    await assert.rejects(
      serve(new FragmentBuilder(1 << 20), video, video.segments.startTicks[0], 'm3u8-aapl', { scheme: 'cenc', keyId, key }),
      (err: unknown) => {
        assert.equal((err as { status?: number }).status, 400);
        return true;
      },
    );
  });
});

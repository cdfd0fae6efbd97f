/**
 * The packager's encryption stage: wraps a format row's segment muxer so that its segments come out
 * encrypted under one track's key, with the row's boxes, brands and layout unchanged.
 *
 * fMP4 rows (`m3u8-cmaf`, `mpd-time-cmaf`, `mpd-time-csf`, `smooth`):
 * - `cenc`/`cbcs`: protected init segment (`encv`/`enca` + `sinf`, `pssh`), samples encrypted in place and
 *   `saiz`/`saio`/`senc` added to each media segment (protected-segment.ts);
 * - `aes-128` (HLS envelope): clear init segment (HLS puts `EXT-X-MAP` before `EXT-X-KEY`), each media
 *   segment AES-128-CBC as a whole, IV = its media sequence number.
 * MPEG-TS (`m3u8-aapl`): `aes-128` only; the muxed segment is encrypted as a whole.
 * Text tracks, and any track given no encryption (a policy's clear tracks), pass through clear.
 *
 * @example
 * const muxer = encryptedSegments(row.segments, { scheme: 'cenc', keyId, key, pssh });
 * if (muxer.container === 'fmp4') {
 *   const plan = muxer.plan(track, segment); // { size, ranges, seal }
 *   const body = plan.seal(await readAll(plan.ranges)); // chunks to send, in order
 * }
 */
import { MediaError } from '../../../shared/errors.js';
import type { TrackIndex, TrackKind } from '../model/media-index.js';
import type { Fmp4SegmentMuxer, TsSegmentMuxer } from '../output-formats.js';
import { protectedSampleEntry, withPssh } from './protected-init.js';
import { planProtectedSegment, splitPlan, type EncryptedSegmentPlan } from './protected-segment.js';
import { encryptEnvelope, envelopeSize } from './sample-cipher.js';
import { checkTrackEncryption, envelopeIv, isEncryptedTrack, type TrackEncryption } from './track-encryption.js';
import type { TrackSegment } from '../model/segment.js';
import { nalLayoutOf } from './subsamples.js';

/** An fMP4 muxer whose media segments are finished after their samples are read (`seal`). */
export interface EncryptedFmp4Muxer {
  readonly container: 'fmp4';
  readonly variant: 'cmaf' | 'csf';
  contentType(kind: TrackKind): string;
  /** The init segment: protected for `cenc`/`cbcs`, clear otherwise. */
  init(track: TrackIndex): Uint8Array;
  plan(track: TrackIndex, segment: TrackSegment): EncryptedSegmentPlan;
}

export function encryptedSegments(muxer: Fmp4SegmentMuxer, enc: TrackEncryption | undefined): EncryptedFmp4Muxer;
export function encryptedSegments(muxer: TsSegmentMuxer, enc: TrackEncryption | undefined): TsSegmentMuxer;
export function encryptedSegments(muxer: Fmp4SegmentMuxer | TsSegmentMuxer, enc: TrackEncryption | undefined): EncryptedFmp4Muxer | TsSegmentMuxer;
/** `muxer` with its segments encrypted under `enc` (undefined: clear, through the same interface). */
export function encryptedSegments(muxer: Fmp4SegmentMuxer | TsSegmentMuxer, enc: TrackEncryption | undefined): EncryptedFmp4Muxer | TsSegmentMuxer {
  if (enc !== undefined) checkTrackEncryption(enc);
  return muxer.container === 'ts' ? encryptedTs(muxer, enc) : encryptedFmp4(muxer, enc);
}

/**
 * Throws the 4xx the stage would answer for `track`'s segments under `scheme`: `cenc`/`cbcs` video must have a
 * NAL layout it can read (H.264/HEVC with a sound `avcC`/`hvcC`; else 415 `UnsupportedCodec` or 422
 * `CorruptMedia`). The origin calls it before writing a protected manifest, so such a stream is refused as a
 * whole instead of being signalled and then failing segment by segment. Cached per track.
 */
export function checkEncryptable(track: TrackIndex, scheme: TrackEncryption['scheme']): void {
  if (track.kind === 'video' && scheme !== 'aes-128') nalLayoutOf(track);
}

function encryptedFmp4(muxer: Fmp4SegmentMuxer, enc: TrackEncryption | undefined): EncryptedFmp4Muxer {
  return {
    container: 'fmp4',
    variant: muxer.variant,
    contentType: (kind) => muxer.contentType(kind),
    init(track) {
      if (!isEncryptedTrack(track, enc) || enc.scheme === 'aes-128') return muxer.init(track);
      const scheme = enc.scheme;
      const init = muxer.init({ ...track, sampleEntry: protectedSampleEntry(track, { ...enc, scheme }) });
      return withPssh(init, enc.pssh ?? []);
    },
    plan(track, segment) {
      const clear = muxer.plan(track, segment);
      if (isEncryptedTrack(track, enc) && enc.scheme !== 'aes-128') return planProtectedSegment(clear, track, segment, { ...enc, scheme: enc.scheme });
      const { header, ranges } = splitPlan(clear);
      if (!isEncryptedTrack(track, enc)) return { size: clear.size, ranges, seal: (bytes) => [header, ...bytes] };
      const iv = envelopeIv(segment.index);
      return { size: envelopeSize(clear.size), ranges, seal: (bytes) => encryptEnvelope(enc.key, iv, [header, ...bytes]) };
    },
  };
}

function encryptedTs(muxer: TsSegmentMuxer, enc: TrackEncryption | undefined): TsSegmentMuxer {
  if (enc === undefined) return muxer;
  if (enc.scheme !== 'aes-128') {
    throw new MediaError(400, 'UnsupportedEncryption', `MPEG-TS segments (format=m3u8-aapl) can carry AES-128 envelope encryption, not '${enc.scheme}'`);
  }
  return {
    container: 'ts',
    variant: 'ts',
    contentType: (kind) => muxer.contentType(kind),
    plan: (track, segment) => muxer.plan(track, segment),
    write(track, segment, plan, samples) {
      const clear = muxer.write(track, segment, plan, samples);
      if (!isEncryptedTrack(track, enc)) return clear;
      return encryptEnvelope(enc.key, envelopeIv(segment.index), clear);
    },
  };
}

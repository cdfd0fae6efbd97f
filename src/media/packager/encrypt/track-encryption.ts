/**
 * How one track of a segment request is encrypted: the scheme, the content key and what the init segment
 * carries for DRM systems. The packager never generates keys or PSSH boxes: the origin gets them from the
 * locator's content keys and the manifest/DRM signalling code.
 */
import crypto from 'node:crypto';
import { InternalError } from '../../../shared/errors.js';
import type { TrackIndex } from '../model/media-index.js';

/**
 * - `cenc`: ISO/IEC 23001-7 AES-128-CTR, per-sample 8-byte IVs, video subsample encryption (DASH, CMAF).
 * - `cbcs`: ISO/IEC 23001-7 AES-128-CBC, constant 16-byte IV, pattern 1:9 on video, whole samples on audio.
 * - `aes-128`: HLS envelope (RFC 8216 §4.3.2.4): the whole media segment AES-128-CBC with PKCS#7 padding.
 */
export type EncryptionScheme = 'cenc' | 'cbcs' | 'aes-128';

export interface TrackEncryption {
  scheme: EncryptionScheme;
  /** The 16-byte key id (KID), as in `tenc` and `cenc:default_KID`. */
  keyId: Uint8Array;
  /** The 16-byte AES key. */
  key: Uint8Array;
  /** Complete `pssh` boxes to put in the init segment's `moov` (cenc/cbcs), in order; opaque to the packager. */
  pssh?: Uint8Array[];
  /**
   * Names the track among the others encrypted under the same key (the origin passes source file and track id),
   * so that two renditions never draw the same `cenc` IVs. Without it the track's own fields are used, which
   * tells apart any two tracks that differ in codec configuration, track id, length or bitrate.
   */
  trackTag?: string;
}

/** Throws unless key id and key are 16 bytes each (a caller bug: the API validates what users send). */
export function checkTrackEncryption(enc: TrackEncryption): void {
  if (enc.keyId.byteLength !== 16 || enc.key.byteLength !== 16) {
    throw new InternalError('InternalError', `track encryption needs a 16-byte key id and key, got ${enc.keyId.byteLength} and ${enc.key.byteLength} bytes`);
  }
  if (enc.scheme !== 'cenc' && enc.scheme !== 'cbcs' && enc.scheme !== 'aes-128') {
    throw new InternalError('InternalError', `unknown encryption scheme '${String(enc.scheme)}'`);
  }
}

/** Whether a track of `track`'s kind is encrypted under `enc` at all: text (WebVTT, TTML) always stays clear. */
export function isEncryptedTrack(track: TrackIndex, enc: TrackEncryption | undefined): enc is TrackEncryption {
  return enc !== undefined && track.kind !== 'text';
}

/** The key id as lower-case hex (cache keys, ETags; never the key itself). */
export function keyIdHex(enc: TrackEncryption): string {
  return Buffer.from(enc.keyId.buffer, enc.keyId.byteOffset, enc.keyId.byteLength).toString('hex');
}

/**
 * The 16-byte constant IV of `cbcs` for a key id: derived, so every track and every rebuild under that key
 * writes the same `tenc` (players read it from there; HLS manifests may repeat it as `IV=`).
 */
export function cbcsConstantIv(keyId: Uint8Array): Uint8Array {
  return crypto.createHash('sha256').update('reel/cbcs-constant-iv\0').update(keyId).digest().subarray(0, 16);
}

/**
 * The HLS AES-128 IV of a segment: its media sequence number as a 128-bit big-endian integer (RFC 8216
 * §5.2, used when `EXT-X-KEY` has no `IV`). Reel's media playlists start at sequence 0 and list every
 * segment in order, so the number is `segment.index`.
 */
export function envelopeIv(segmentIndex: number): Uint8Array {
  const iv = new Uint8Array(16);
  const view = new DataView(iv.buffer);
  view.setUint32(8, Math.floor(segmentIndex / 0x1_0000_0000));
  view.setUint32(12, segmentIndex >>> 0);
  return iv;
}

/**
 * The first 8-byte `cenc` IV of a track, as two 32-bit halves: a hash of key id and track, so tracks under
 * one key start their IVs at unrelated points of the 2^64 space. Sample n of the track uses base + n, so IVs
 * never repeat within the track (whatever the segmenting) and a rebuilt segment is byte-identical.
 */
export function cencIvBase(enc: TrackEncryption, track: TrackIndex): [number, number] {
  const hash = crypto.createHash('sha256').update('reel/cenc-iv\0').update(enc.keyId);
  if (enc.trackTag !== undefined) hash.update(`tag\0${enc.trackTag}`);
  else {
    hash.update(`track\0${track.trackId}\0${track.kind}\0${track.samples.count}\0${track.durationTicks}\0${track.bitrateBps}\0`);
    hash.update(track.sampleEntry);
  }
  const digest = hash.digest();
  return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
}

/** Writes IV base + `sampleNumber` (64-bit, wrapping) at `out[at..at+8)`. */
export function writeCencIv(base: [number, number], sampleNumber: number, out: Uint8Array, at: number): void {
  const lowSum = base[1] + (sampleNumber % 0x1_0000_0000);
  const high = (base[0] + Math.floor(sampleNumber / 0x1_0000_0000) + (lowSum >= 0x1_0000_0000 ? 1 : 0)) >>> 0;
  const low = lowSum >>> 0;
  out[at] = high >>> 24;
  out[at + 1] = high >>> 16;
  out[at + 2] = high >>> 8;
  out[at + 3] = high;
  out[at + 4] = low >>> 24;
  out[at + 5] = low >>> 16;
  out[at + 6] = low >>> 8;
  out[at + 7] = low;
}

const tags = new WeakMap<TrackEncryption, { etag: string; cache: string }>();

function tagsOf(enc: TrackEncryption): { etag: string; cache: string } {
  let t = tags.get(enc);
  if (t === undefined) {
    // The ETag is public: it names scheme and key id and hashes what else shapes the bytes (PSSH, IV tag),
    // never the key. The cache key is private and also hashes the key, so two keys under one key id never
    // share a cached segment.
    const shape = crypto.createHash('sha256').update(`${enc.scheme}\0${enc.trackTag ?? ''}\0`);
    for (const box of enc.pssh ?? []) shape.update(box);
    const shapeHex = shape.digest('hex').slice(0, 16);
    const keyHex = crypto.createHash('sha256').update('reel/segment-cache\0').update(enc.key).update(shapeHex).digest('hex').slice(0, 32);
    t = { etag: `${enc.scheme}.${keyIdHex(enc)}.${shapeHex}`, cache: `${enc.scheme}.${keyIdHex(enc)}.${keyHex}` };
    tags.set(enc, t);
  }
  return t;
}

/** What an encrypted segment's ETag adds to the clear one's: scheme, key id and a hash of PSSH and IV tag. */
export function encryptionEtagTag(enc: TrackEncryption): string {
  return tagsOf(enc).etag;
}

/** What an encrypted segment's cache key adds: scheme, key id and a hash that covers the key too. */
export function encryptionCacheTag(enc: TrackEncryption): string {
  return tagsOf(enc).cache;
}

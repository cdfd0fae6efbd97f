/**
 * The protected init segment (ISO/IEC 23001-7 §8, ISO/IEC 14496-12 §8.12): the track's sample entry becomes
 * `encv`/`enca` with a `sinf` child (`frma` = the original four-cc, `schm` = `cenc`/`cbcs`, `schi/tenc` with
 * the key id and IV layout), and the given `pssh` boxes close the `moov`. Everything else is the format's own
 * init segment: the row's muxer builds it from the track with the rewritten sample entry.
 */
import { InternalError } from '../../../shared/errors.js';
import type { TrackIndex } from '../model/media-index.js';
import { BOX_HEADER_SIZE, BoxWriter, FULL_BOX_HEADER_SIZE, fourcc } from '../mux/fmp4/box-writer.js';
import { CBCS_CRYPT_BLOCKS, CBCS_SKIP_BLOCKS } from './sample-cipher.js';
import { cbcsConstantIv, type TrackEncryption } from './track-encryption.js';

/** Bytes of the per-sample IV in `senc` for `cenc` (8: the counter then has 64 bits per sample). */
export const CENC_IV_SIZE = 8;

const SINF = fourcc('sinf');
const FRMA = fourcc('frma');
const SCHM = fourcc('schm');
const SCHI = fourcc('schi');
const TENC = fourcc('tenc');

function tencSize(scheme: 'cenc' | 'cbcs'): number {
  // reserved, reserved|pattern, isProtected, Per_Sample_IV_Size, KID[, constant IV size, constant IV]
  return FULL_BOX_HEADER_SIZE + 4 + 16 + (scheme === 'cbcs' ? 1 + 16 : 0);
}

/** The `sinf` box of a track: original format, scheme, and `tenc`. */
export function sinfBox(track: TrackIndex, enc: TrackEncryption & { scheme: 'cenc' | 'cbcs' }): Uint8Array {
  const tenc = tencSize(enc.scheme);
  const schi = BOX_HEADER_SIZE + tenc;
  const schm = FULL_BOX_HEADER_SIZE + 8;
  const frma = BOX_HEADER_SIZE + 4;
  const size = BOX_HEADER_SIZE + frma + schm + schi;
  const w = BoxWriter.allocate(size);
  w.box(size, SINF);
  w.box(frma, FRMA);
  w.u32(fourcc(track.fourcc));
  w.fullBox(schm, SCHM, 0, 0);
  w.u32(fourcc(enc.scheme));
  w.u32(0x00010000); // scheme_version 1.0
  w.box(schi, SCHI);
  if (enc.scheme === 'cenc') {
    w.fullBox(tenc, TENC, 0, 0);
    w.u8(0);
    w.u8(0);
    w.u8(1); // default_isProtected
    w.u8(CENC_IV_SIZE);
    w.copy(enc.keyId);
  } else {
    // Version 1 carries the pattern; audio is whole-sample (0:0 = every block, §9.6).
    w.fullBox(tenc, TENC, 1, 0);
    w.u8(0);
    w.u8(track.kind === 'video' ? (CBCS_CRYPT_BLOCKS << 4) | CBCS_SKIP_BLOCKS : 0);
    w.u8(1);
    w.u8(0); // Per_Sample_IV_Size 0: constant IV
    w.copy(enc.keyId);
    w.u8(16);
    w.copy(cbcsConstantIv(enc.keyId));
  }
  return w.finish();
}

/** The sample entry renamed `encv` (video) or `enca` (audio), with `sinf` appended as its last child. */
export function protectedSampleEntry(track: TrackIndex, enc: TrackEncryption & { scheme: 'cenc' | 'cbcs' }): Uint8Array {
  const entry = track.sampleEntry;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (entry.byteLength < BOX_HEADER_SIZE || view.getUint32(0) !== entry.byteLength) {
    throw new InternalError('InternalError', `track ${track.trackId}: the sample entry is not one whole box`);
  }
  const sinf = sinfBox(track, enc);
  const w = BoxWriter.allocate(entry.byteLength + sinf.byteLength);
  w.copy(entry);
  w.copy(sinf);
  const out = w.finish();
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  outView.setUint32(0, out.byteLength);
  outView.setUint32(4, fourcc(track.kind === 'video' ? 'encv' : 'enca'));
  return out;
}

/**
 * Appends `pssh` boxes (each element: one or more whole boxes) at the end of the init segment's `moov`, which the fMP4 muxer writes last (`ftyp`,
 * `moov`); the `moov` size grows by their total.
 */
export function withPssh(init: Uint8Array, pssh: readonly Uint8Array[]): Uint8Array {
  if (pssh.length === 0) return init;
  const view = new DataView(init.buffer, init.byteOffset, init.byteLength);
  let at = 0;
  let moov = -1;
  while (at + 8 <= init.byteLength) {
    const size = view.getUint32(at);
    if (size < 8) break;
    if (view.getUint32(at + 4) === fourcc('moov')) moov = at;
    at += size;
  }
  if (moov < 0 || at !== init.byteLength || moov + view.getUint32(moov) !== init.byteLength) {
    throw new InternalError('InternalError', 'init segment does not end with its moov box');
  }
  let extra = 0;
  for (const boxes of pssh) {
    // Each element is one or more whole boxes back to back (`initSegmentPsshBoxes` gives all of a key's at once).
    const v = new DataView(boxes.buffer, boxes.byteOffset, boxes.byteLength);
    let next = 0;
    while (next + 8 <= boxes.byteLength && v.getUint32(next) >= 8) next += v.getUint32(next);
    if (boxes.byteLength === 0 || next !== boxes.byteLength) {
      throw new InternalError('InternalError', 'pssh bytes given for the init segment are not whole boxes');
    }
    extra += boxes.byteLength;
  }
  const w = BoxWriter.allocate(init.byteLength + extra);
  w.copy(init);
  for (const box of pssh) w.copy(box);
  const out = w.finish();
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(moov, view.getUint32(moov) + extra);
  return out;
}

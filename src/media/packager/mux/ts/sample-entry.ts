/**
 * Finds the configuration boxes (`avcC`, `hvcC`, `esds`…) inside a `stsd` sample entry, which the TS muxer
 * needs to rebuild in-band codec headers. Returns views into the entry, never copies.
 */
import type { TrackIndex } from '../../model/media-index.js';

/** VisualSampleEntry fields end 86 bytes into the box (ISO/IEC 14496-12 §12.1.3.2). */
const VISUAL_CHILDREN_OFFSET = 86;
/** AudioSampleEntry fields end 36 bytes into the box (§12.2.3.2); QuickTime versions 1 and 2 add more. */
const AUDIO_CHILDREN_OFFSET = 36;
const QUICKTIME_V1_EXTRA = 16;
const QUICKTIME_V2_EXTRA = 36;

function typeAt(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}

function u32At(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** The offset of the first child box of `track.sampleEntry`. */
function childrenOffset(track: TrackIndex): number {
  if (track.kind === 'video') return VISUAL_CHILDREN_OFFSET;
  if (track.kind === 'audio') {
    const entry = track.sampleEntry;
    const version = entry.byteLength >= 18 ? (entry[16] << 8) | entry[17] : 0;
    if (version === 1) return AUDIO_CHILDREN_OFFSET + QUICKTIME_V1_EXTRA;
    if (version === 2) return AUDIO_CHILDREN_OFFSET + QUICKTIME_V2_EXTRA;
    return AUDIO_CHILDREN_OFFSET;
  }
  return 16;
}

/**
 * The payload (after the 8-byte header) of the first child box of `type` in the track's sample entry, looking
 * one level into `wave` (QuickTime audio), or undefined when absent.
 */
export function findSampleEntryChild(track: TrackIndex, type: string): Uint8Array | undefined {
  const entry = track.sampleEntry;
  return findChild(entry, childrenOffset(track), entry.byteLength, type);
}

function findChild(bytes: Uint8Array, start: number, end: number, type: string): Uint8Array | undefined {
  let offset = start;
  while (offset + 8 <= end) {
    const size = u32At(bytes, offset);
    if (size < 8 || offset + size > end) return undefined;
    const boxType = typeAt(bytes, offset + 4);
    if (boxType === type) return bytes.subarray(offset + 8, offset + size);
    if (boxType === 'wave') {
      const inner = findChild(bytes, offset + 8, offset + size, type);
      if (inner !== undefined) return inner;
    }
    offset += size;
  }
  return undefined;
}

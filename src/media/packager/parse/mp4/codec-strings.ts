/**
 * RFC 6381 `codecs` strings from decoder configuration records (ISO/IEC 14496-15 and its Annex E), as manifests
 * advertise them.
 */
import { readU32 } from './boxes.js';

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * RFC 6381 string from an `avcC` payload at `o`: `avc1.PPCCLL` (profile_idc, constraint flags byte,
 * level_idc in hex), e.g. `avc1.64001f` for High@3.1.
 */
export function avcCodecString(fourcc: string, b: Uint8Array, o: number): string {
  return `${fourcc}.${hex2(b[o + 1])}${hex2(b[o + 2])}${hex2(b[o + 3])}`;
}

/**
 * ISO/IEC 14496-15 Annex E string from an `hvcC` payload at `o`: profile space letter + profile_idc, the 32
 * compatibility flags bit-reversed in hex, tier letter + level_idc, then the six constraint bytes in hex with
 * trailing zero bytes dropped — e.g. `hvc1.1.6.L93.B0` for Main@3.1 progressive.
 */
export function hevcCodecString(fourcc: string, b: Uint8Array, o: number): string {
  const b1 = b[o + 1];
  const space = b1 >> 6;
  const tier = (b1 >> 5) & 1;
  const profile = b1 & 0x1f;
  let compat = readU32(b, o + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    reversed = (reversed << 1) | (compat & 1);
    compat >>>= 1;
  }
  const level = b[o + 12];
  let s = `${fourcc}.${['', 'A', 'B', 'C'][space]}${profile}.${(reversed >>> 0).toString(16).toUpperCase()}.${tier ? 'H' : 'L'}${level}`;
  let last = 5;
  while (last >= 0 && b[o + 6 + last] === 0) last--;
  for (let i = 0; i <= last; i++) s += `.${b[o + 6 + i].toString(16).toUpperCase()}`;
  return s;
}

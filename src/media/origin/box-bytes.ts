/**
 * ISO BMFF boxes built by hand from byte lists: for the warm-up's synthetic MP4 (warm-up-media.ts) and the
 * parser tests' hand-built files (test/fixtures/hand-built-mp4.ts). Not a muxer: the packager writes its output
 * with mux/fmp4/box-writer.ts.
 */

export type BoxPart = Uint8Array | number[];

export function u16(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

export function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function concatBytes(parts: ReadonlyArray<BoxPart>): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A box with a 32-bit size. */
export function box(type: string, ...parts: BoxPart[]): Uint8Array {
  const payload = concatBytes(parts);
  return concatBytes([u32(payload.length + 8), Array.from(type, (c) => c.charCodeAt(0)), payload]);
}

export function fullBox(type: string, version: number, flags: number, ...parts: BoxPart[]): Uint8Array {
  return box(type, [version & 0xff, (flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff], ...parts);
}

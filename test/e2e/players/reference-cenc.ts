// CENC ('cenc', AES-128-CTR) encryption of ffmpeg's clear DASH output, for the protected-playback reference
// streams: ffmpeg 5.1's mp4 muxer writes `senc` into the init segment's `stbl` only, never per fragment, so its
// own fragmented CENC cannot be played. This is deliberately independent of Reel's packager: it is the peer
// that proves the player harness, checked against ffmpeg's decryptor and Chromium's ClearKey CDM.
//
// Init segments: the sample entry becomes `encv`/`enca` with `sinf` (frma, schm 'cenc', tenc with the KID), and
// `moov` gets a W3C common-system `pssh` naming the KID. Media segments: every sample is encrypted in its
// `mdat` (video: the NAL bodies in 16-byte blocks, length prefixes and NAL headers clear; audio: whole samples),
// and each `traf` gets `senc` (8-byte IVs, subsamples), `saiz` and `saio`; `trun` data offsets and `sidx`
// sizes are moved by what the `moof` grew.
import crypto from 'node:crypto';

/** The W3C "common" PSSH system id, which Chromium's ClearKey CDM reads key ids from. */
const COMMON_SYSTEM_ID = Buffer.from('1077efecc0b24d02ace33c1e52e2fb4b', 'hex');

/** Boxes whose payload is (a fixed prefix followed by) child boxes. */
const CONTAINER_PREFIX: Record<string, number> = {
  moov: 0,
  trak: 0,
  mdia: 0,
  minf: 0,
  stbl: 0,
  moof: 0,
  traf: 0,
  stsd: 8,
  avc1: 78,
  hvc1: 78,
  mp4a: 28,
};

interface Box {
  type: string;
  /** Where the box started in the parsed file. */
  start: number;
  /** Payload bytes before the children (containers), or the whole payload (leaves). */
  data: Buffer;
  children?: Box[];
}

function parse(buf: Buffer, start = 0, end = buf.length): Box[] {
  const out: Box[] = [];
  let off = start;
  while (off + 8 <= end) {
    const size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (size < 8 || off + size > end) throw new Error(`bad box ${type} at ${off}`);
    const prefix = CONTAINER_PREFIX[type];
    if (prefix === undefined) out.push({ type, start: off, data: buf.subarray(off + 8, off + size) });
    else out.push({ type, start: off, data: buf.subarray(off + 8, off + 8 + prefix), children: parse(buf, off + 8 + prefix, off + size) });
    off += size;
  }
  return out;
}

function write(boxes: Box[]): Buffer {
  return Buffer.concat(
    boxes.map((b) => {
      const payload = b.children ? Buffer.concat([b.data, write(b.children)]) : b.data;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(payload.length + 8);
      header.write(b.type, 4, 'latin1');
      return Buffer.concat([header, payload]);
    }),
  );
}

const leaf = (type: string, ...parts: Buffer[]): Box => ({ type, start: -1, data: Buffer.concat(parts) });
const fullHeader = (version: number, flags: number) => Buffer.from([version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const child = (b: Box, type: string) => b.children?.find((c) => c.type === type);

/** Makes an init segment's track encrypted with `kid` (16 bytes). */
export function encryptInit(init: Buffer, kid: Buffer): Buffer {
  const boxes = parse(init);
  const moov = boxes.find((b) => b.type === 'moov');
  if (!moov?.children) throw new Error('no moov');
  for (const trak of moov.children.filter((b) => b.type === 'trak')) {
    const stsd = child(child(child(child(trak, 'mdia')!, 'minf')!, 'stbl')!, 'stsd')!;
    const entry = stsd.children![0];
    if (!entry.children) throw new Error(`unsupported sample entry ${entry.type}`);
    const original = entry.type;
    entry.type = original === 'mp4a' ? 'enca' : 'encv';
    const tenc = leaf('tenc', fullHeader(0, 0), Buffer.from([0, 0, 1, 8]), kid);
    const schi: Box = { type: 'schi', start: -1, data: Buffer.alloc(0), children: [tenc] };
    entry.children.push({
      type: 'sinf',
      start: -1,
      data: Buffer.alloc(0),
      children: [leaf('frma', Buffer.from(original, 'latin1')), leaf('schm', fullHeader(0, 0), Buffer.from('cenc', 'latin1'), u32(0x10000)), schi],
    });
  }
  moov.children.push(leaf('pssh', fullHeader(1, 0), COMMON_SYSTEM_ID, u32(1), kid, u32(0)));
  return write(boxes);
}

/** Encrypts one media segment (styp? sidx? (moof mdat)+) of a track whose init said `video` or not. */
export function encryptSegment(segment: Buffer, key: Buffer, video: boolean): Buffer {
  const top = parse(segment);
  const growth: number[] = [];
  for (let i = 0; i < top.length; i++) {
    const moof = top[i];
    if (moof.type !== 'moof') continue;
    const mdat = top[i + 1];
    if (mdat?.type !== 'mdat') throw new Error('moof without a following mdat');
    // Sample data is addressed relative to its moof (default-base-is-moof, or the first traf's implicit base).
    const mdatPayloadStart = mdat.start + 8 - moof.start;
    const before = write([moof]).length;
    const traf = child(moof, 'traf')!;
    if (moof.children!.filter((c) => c.type === 'traf').length !== 1) throw new Error('one traf per moof expected');
    const tfhd = child(traf, 'tfhd')!.data;
    const tfhdFlags = tfhd.readUInt32BE(0) & 0xffffff;
    let o = 8; // version/flags, track_ID
    if (tfhdFlags & 0x1) o += 8;
    if (tfhdFlags & 0x2) o += 4;
    if (tfhdFlags & 0x8) o += 4;
    const defaultSize = tfhdFlags & 0x10 ? tfhd.readUInt32BE(o) : undefined;
    const trun = child(traf, 'trun')!;
    const trunFlags = trun.data.readUInt32BE(0) & 0xffffff;
    const count = trun.data.readUInt32BE(4);
    if (!(trunFlags & 0x1)) throw new Error('trun without data_offset');
    const dataOffset = trun.data.readInt32BE(8);
    let p = 12 + (trunFlags & 0x4 ? 4 : 0);
    const sizes: number[] = [];
    for (let s = 0; s < count; s++) {
      if (trunFlags & 0x100) p += 4;
      if (trunFlags & 0x200) {
        sizes.push(trun.data.readUInt32BE(p));
        p += 4;
      } else if (defaultSize !== undefined) sizes.push(defaultSize);
      else throw new Error('no sample sizes');
      if (trunFlags & 0x400) p += 4;
      if (trunFlags & 0x800) p += 4;
    }
    // Encrypt the samples in place (a copy of the mdat payload), collecting the senc entries.
    const payload = Buffer.from(mdat.data);
    let sampleAt = dataOffset - mdatPayloadStart;
    const senc: Buffer[] = [];
    const infoSizes: number[] = [];
    for (const size of sizes) {
      const sample = payload.subarray(sampleAt, sampleAt + size);
      const iv = crypto.randomBytes(8);
      const ranges = video ? nalSubsamples(sample) : [{ clear: 0, protectedBytes: size }];
      const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.alloc(8)]));
      let q = 0;
      for (const r of ranges) {
        q += r.clear;
        if (r.protectedBytes > 0) cipher.update(sample.subarray(q, q + r.protectedBytes)).copy(sample, q);
        q += r.protectedBytes;
      }
      if (q !== size) throw new Error('subsamples do not cover the sample');
      const entry = video ? Buffer.concat([iv, u16(ranges.length), ...ranges.map((r) => Buffer.concat([u16(r.clear), u32(r.protectedBytes)]))]) : iv;
      senc.push(entry);
      infoSizes.push(entry.length);
      sampleAt += size;
    }
    mdat.data = payload;
    const sencBox = leaf('senc', fullHeader(0, video ? 0x2 : 0), u32(count), ...senc);
    const uniform = infoSizes.every((n) => n === infoSizes[0]);
    const saiz = leaf('saiz', fullHeader(0, 0), Buffer.from([uniform ? infoSizes[0] : 0]), u32(count), uniform ? Buffer.alloc(0) : Buffer.from(infoSizes));
    // saio points at the first IV in senc, relative to the moof (tfhd default-base-is-moof, or first traf).
    const sencIndex = traf.children!.indexOf(trun) + 1;
    const sencOffset = 8 + write(moof.children!.slice(0, moof.children!.indexOf(traf))).length + 8 + write(traf.children!.slice(0, sencIndex)).length;
    const saio = leaf('saio', fullHeader(0, 0), u32(1), u32(sencOffset + 16));
    traf.children!.splice(sencIndex, 0, sencBox, saiz, saio);
    const grew = write([moof]).length - before;
    trun.data = Buffer.from(trun.data);
    trun.data.writeInt32BE(dataOffset + grew, 8);
    growth.push(grew);
  }
  // sidx: one reference per moof+mdat, each grown by its moof's growth.
  const sidx = top.find((b) => b.type === 'sidx');
  if (sidx) {
    const d = Buffer.from(sidx.data);
    const version = d[0];
    let r = 4 + 8 + (version === 0 ? 8 : 16) + 2;
    const refs = d.readUInt16BE(r);
    r += 2;
    if (refs !== growth.length) throw new Error(`sidx has ${refs} references for ${growth.length} fragments`);
    for (let k = 0; k < refs; k++, r += 12) {
      const v = d.readUInt32BE(r);
      d.writeUInt32BE(((v & 0x80000000) | ((v & 0x7fffffff) + growth[k])) >>> 0, r);
    }
    sidx.data = d;
  }
  return write(top);
}

/**
 * Subsamples of an AVC/HEVC sample with 4-byte NAL lengths: the length, the NAL header and the remainder of the
 * NAL body modulo 16 stay clear; the rest (whole 16-byte blocks) is protected. Small NALs stay clear.
 */
function nalSubsamples(sample: Buffer): Array<{ clear: number; protectedBytes: number }> {
  const out: Array<{ clear: number; protectedBytes: number }> = [];
  let clear = 0;
  for (let p = 0; p < sample.length;) {
    const len = sample.readUInt32BE(p);
    const body = len - 1;
    const protectedBytes = body - (body % 16);
    clear += 4 + len - protectedBytes;
    if (protectedBytes > 0) {
      while (clear > 0xffff) {
        out.push({ clear: 0xffff, protectedBytes: 0 });
        clear -= 0xffff;
      }
      out.push({ clear, protectedBytes });
      clear = 0;
    }
    p += 4 + len;
  }
  while (clear > 0) {
    const c = Math.min(clear, 0xffff);
    out.push({ clear: c, protectedBytes: 0 });
    clear -= c;
  }
  return out;
}

/** A UUID string (8-4-4-4-12) of a 16-byte key id. */
export function kidUuid(kid: Buffer): string {
  const h = kid.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Adds CENC and ClearKey `ContentProtection` to every AdaptationSet of an MPD: mp4protection with
 * `cenc:default_KID`, and ClearKey as `urn:uuid:e2719d58-…` (DASH-IF). No W3C common-PSSH (`1077efec-…`)
 * element with `cenc:pssh`: dash.js 5.2 hands that pssh to ClearKey as 'keyids' init data, and Chromium's
 * generateRequest rejects it (TypeError). The common `pssh` stays in the init segments.
 */
export function protectMpd(mpd: string, kid: Buffer): string {
  const protection =
    `\n\t\t\t<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="${kidUuid(kid)}"/>` +
    `\n\t\t\t<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"/>`;
  const out = mpd.replace('<MPD ', '<MPD xmlns:cenc="urn:mpeg:cenc:2013" ').replace(/(<AdaptationSet\b[^>]*>)/g, `$1${protection}`);
  if (!out.includes('cenc:default_KID')) throw new Error('no AdaptationSet in the MPD');
  return out;
}

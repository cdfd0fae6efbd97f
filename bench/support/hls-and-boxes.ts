/**
 * Small readers the origin benchmarks share: HLS playlist URIs, the highest video variant of a multivariant
 * playlist, and the media payload of an fMP4 fragment (to compare frames across origins and schemes).
 */

/** The URIs of a playlist: its non-empty lines that are not tags or comments. */
export const playlistUris = (playlist: string): string[] =>
  playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

/** The highest video variant of an HLS multivariant playlist, as an absolute URL. */
export function videoVariant(master: string, masterUrl: string): string {
  const lines = master.split('\n');
  let best: { bandwidth: number; uri: string } | undefined;
  lines.forEach((line, i) => {
    const inf = /^#EXT-X-STREAM-INF:(.*)$/.exec(line);
    if (!inf || !/RESOLUTION=/.test(inf[1])) return;
    const bandwidth = Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(inf[1])?.[1] ?? 0);
    const uri = lines
      .slice(i + 1)
      .find((l) => l.trim() && !l.startsWith('#'))
      ?.trim();
    if (uri && (!best || bandwidth > best.bandwidth)) best = { bandwidth, uri };
  });
  if (!best) throw new Error(`no video variant in ${masterUrl}:\n${master.slice(0, 500)}`);
  return new URL(best.uri, masterUrl).toString();
}

/** The payloads of a fragment's top-level `mdat` boxes, concatenated: the media samples, whatever the boxes around them. */
export function mdatPayload(segment: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= segment.length;) {
    let size = segment.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      size = Number(segment.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = segment.length - at;
    if (size < header) break;
    if (segment.toString('latin1', at + 4, at + 8) === 'mdat') parts.push(segment.subarray(at + header, at + size));
    at += size;
  }
  return Buffer.concat(parts);
}

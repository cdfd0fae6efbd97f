/** One track the server manifest names: a file in the asset and the track inside it. */
export interface IsmTrack {
  kind: 'video' | 'audio';
  /** File name in the asset, e.g. `clip_640x360_1000.mp4`. */
  src: string;
  bitrateBps: number;
  /** The MP4 `tkhd` track_ID (1 for a single-track file). */
  trackId: number;
  /** `video` for every video rendition (one switching group), `aac_{lang}_{channels}_{kbps}` for audio as AMS wrote. */
  trackName: string;
  /** ISO 639-2 code when the source said one; AMS left it out otherwise. */
  language?: string;
}

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

/**
 * The AMS server manifest (SMIL 2.0, MKIO-API §17.5) naming every rendition, which the origin reads to build
 * its presentations. No `clientManifestRelativePath`: Reel writes no `.ismc` (the origin builds manifests itself).
 * `head` adds `<meta>` entries after `formats` (a live archive's `availabilityStartTime`).
 */
export function writeIsm(tracks: readonly IsmTrack[], head: Readonly<Record<string, string>> = {}): string {
  const param = (name: string, value: string | number) => `<param name="${name}" value="${escapeXml(String(value))}" valuetype="data" />`;
  const lines = tracks.map((t) => {
    const lang = t.language ? ` systemLanguage="${escapeXml(t.language)}"` : '';
    return (
      `      <${t.kind} src="${escapeXml(t.src)}" systemBitrate="${Math.round(t.bitrateBps)}"${lang}>` +
      `${param('trackID', t.trackId)}${param('trackName', t.trackName)}</${t.kind}>`
    );
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
    '  <head>',
    '    <meta name="formats" content="mp4-v3" />',
    ...Object.entries(head).map(([name, content]) => `    <meta name="${escapeXml(name)}" content="${escapeXml(content)}" />`),
    '  </head>',
    '  <body>',
    '    <switch>',
    ...lines,
    '    </switch>',
    '  </body>',
    '</smil>',
    '',
  ].join('\n');
}

/** AMS's audio track name: codec, language (`und` when unknown), channels, kbps. */
export function audioTrackName(codec: string, language: string | undefined, channels: number, bitrateBps: number): string {
  return `${codec}_${language ?? 'und'}_${channels}_${Math.round(bitrateBps / 1000)}`;
}

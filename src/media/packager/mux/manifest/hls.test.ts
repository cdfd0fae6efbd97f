import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import { hlsMasterPlaylist, hlsMediaPlaylist } from './hls.js';
import { parseFragmentPath, parseMediaPlaylistPath, type ManifestContext, type ManifestProtection } from './manifest-context.js';
import { parseHlsKey, type HlsKey } from '../../../../../test/support/drm-signalling.js';
import { hevcPresentation, twoHourPresentation, twoRenditionPresentation } from '../../../../../test/fixtures/hand-built-presentations.js';
import { SegmentList } from '../../model/segment.js';
import { applyFilters } from '../../filters/apply-filters.js';

// A small strict reader of RFC 8216 playlists: it knows only the tags we write and checks each attribute's
// value type (§4.2) and the rules of §4.3 and §6.2 that a server must follow.

type Attributes = Map<string, string>;

/** Parses an attribute-list (RFC 8216 §4.2): unique names, quoted or unquoted values, nothing stray. */
function parseAttributes(text: string): Attributes {
  const out: Attributes = new Map();
  const re = /([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]+)(,|$)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    assert.ok(m, `bad attribute-list at '${text.slice(at, at + 40)}' in '${text}'`);
    assert.ok(!out.has(m[1]), `attribute ${m[1]} twice in '${text}'`);
    out.set(m[1], m[2]);
    at = re.lastIndex;
    assert.ok(m[3] === ',' ? at < text.length : at === text.length, `trailing comma in '${text}'`);
  }
  return out;
}

const decimalInteger = /^(?:0|[1-9]\d{0,19})$/;
const quotedString = /^"[^"\r\n]*"$/;
const unquote = (value: string) => {
  assert.match(value, quotedString);
  return value.slice(1, -1);
};

interface Rendition {
  type: string;
  groupId: string;
  name: string;
  language?: string;
  isDefault: boolean;
  uri: string;
  channels?: string;
}
interface VariantStream {
  bandwidth: number;
  averageBandwidth?: number;
  codecs: string[];
  resolution?: string;
  frameRate?: string;
  audio?: string;
  uri: string;
}
interface MasterPlaylist {
  version: number;
  renditions: Rendition[];
  variants: VariantStream[];
  independentSegments: boolean;
  /** `EXT-X-SESSION-KEY` attribute-lists as written, and parsed. */
  sessionKeys: Array<{ attributes: string; key: HlsKey }>;
}

function checkMaster(text: string): MasterPlaylist {
  assert.ok(text.endsWith('\n'), 'playlist ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const out: MasterPlaylist = { version: 0, renditions: [], variants: [], independentSegments: false, sessionKeys: [] };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    assert.ok(line.length > 0 && line === line.trim(), `line ${i + 1} is empty or padded`);
    const [tag, value] = line.split(/:(.*)/s);
    if (tag === '#EXT-X-VERSION') {
      assert.equal(out.version, 0, 'one EXT-X-VERSION');
      assert.match(value, decimalInteger);
      out.version = Number(value);
    } else if (tag === '#EXT-X-INDEPENDENT-SEGMENTS') {
      assert.equal(value, undefined);
      out.independentSegments = true;
    } else if (tag === '#EXT-X-SESSION-KEY') {
      // §4.3.4.5: no two session keys alike; METHOD is never NONE (parseHlsKey knows only real methods).
      assert.ok(!out.sessionKeys.some((k) => k.attributes === value), 'session keys unique');
      out.sessionKeys.push({ attributes: value, key: parseHlsKey(value) });
    } else if (tag === '#EXT-X-MEDIA') {
      const a = parseAttributes(value);
      for (const k of a.keys()) assert.ok(['TYPE', 'GROUP-ID', 'NAME', 'LANGUAGE', 'DEFAULT', 'AUTOSELECT', 'CHANNELS', 'URI'].includes(k), `unexpected ${k}`);
      const type = a.get('TYPE') as string;
      assert.ok(['AUDIO', 'VIDEO', 'SUBTITLES', 'CLOSED-CAPTIONS'].includes(type), `TYPE ${type}`);
      const isDefault = (a.get('DEFAULT') ?? 'NO') === 'YES';
      for (const k of ['DEFAULT', 'AUTOSELECT']) if (a.has(k)) assert.match(a.get(k) as string, /^(YES|NO)$/);
      // §4.3.4.1: AUTOSELECT MUST be YES when DEFAULT is YES.
      if (isDefault && a.has('AUTOSELECT')) assert.equal(a.get('AUTOSELECT'), 'YES');
      if (a.has('LANGUAGE')) assert.match(unquote(a.get('LANGUAGE') as string), /^[a-z]{2,3}(-[a-z0-9]+)*$/i);
      if (a.has('CHANNELS')) assert.match(unquote(a.get('CHANNELS') as string), /^\d+$/);
      out.renditions.push({
        type,
        groupId: unquote(a.get('GROUP-ID') as string),
        name: unquote(a.get('NAME') as string),
        isDefault,
        language: a.has('LANGUAGE') ? unquote(a.get('LANGUAGE') as string) : undefined,
        uri: unquote(a.get('URI') as string),
        channels: a.has('CHANNELS') ? unquote(a.get('CHANNELS') as string) : undefined,
      });
    } else if (tag === '#EXT-X-STREAM-INF') {
      const a = parseAttributes(value);
      for (const k of a.keys()) assert.ok(['BANDWIDTH', 'AVERAGE-BANDWIDTH', 'CODECS', 'RESOLUTION', 'FRAME-RATE', 'AUDIO'].includes(k), `unexpected ${k}`);
      assert.match(a.get('BANDWIDTH') ?? '', decimalInteger);
      if (a.has('AVERAGE-BANDWIDTH')) assert.match(a.get('AVERAGE-BANDWIDTH') as string, decimalInteger);
      if (a.has('RESOLUTION')) assert.match(a.get('RESOLUTION') as string, /^[1-9]\d*x[1-9]\d*$/);
      // Apple's authoring spec: FRAME-RATE rounded to three decimal places.
      if (a.has('FRAME-RATE')) assert.match(a.get('FRAME-RATE') as string, /^\d+\.\d{3}$/);
      const uri = lines[++i];
      assert.ok(uri && !uri.startsWith('#'), 'EXT-X-STREAM-INF is followed by its URI');
      out.variants.push({
        bandwidth: Number(a.get('BANDWIDTH')),
        averageBandwidth: a.has('AVERAGE-BANDWIDTH') ? Number(a.get('AVERAGE-BANDWIDTH')) : undefined,
        codecs: unquote(a.get('CODECS') as string).split(','),
        resolution: a.get('RESOLUTION'),
        frameRate: a.get('FRAME-RATE'),
        audio: a.has('AUDIO') ? unquote(a.get('AUDIO') as string) : undefined,
        uri,
      });
    } else {
      assert.fail(`unexpected line ${i + 1}: '${line}'`);
    }
  }
  assert.ok(out.version > 0, 'EXT-X-VERSION present');
  // §4.3.4.1.1: NAME unique within a group, at most one DEFAULT=YES per group.
  const groups = new Map<string, Rendition[]>();
  for (const r of out.renditions) groups.set(r.groupId, [...(groups.get(r.groupId) ?? []), r]);
  for (const [id, members] of groups) {
    assert.equal(new Set(members.map((m) => m.name)).size, members.length, `NAMEs unique in ${id}`);
    assert.equal(members.filter((m) => m.isDefault).length, 1, `one DEFAULT=YES in ${id}`);
  }
  for (const v of out.variants) {
    if (v.averageBandwidth !== undefined) assert.ok(v.averageBandwidth <= v.bandwidth, 'AVERAGE-BANDWIDTH ≤ BANDWIDTH');
    if (v.audio !== undefined) {
      const members = groups.get(v.audio);
      assert.ok(members, `AUDIO group ${v.audio} is defined`);
      // §4.3.4.2: CODECS names every format in the variant, including the audio renditions (our group ids
      // are `audio-{codecs}`).
      for (const m of members)
        assert.ok(
          v.codecs.some((c) => v.audio === `audio-${c}`),
          `CODECS ${v.codecs} covers ${m.groupId}`,
        );
    }
  }
  return out;
}

interface MediaPlaylist {
  version: number;
  targetDuration: number;
  mediaSequence: number;
  map?: string;
  segments: Array<{ durationSec: number; uri: string }>;
  /** `EXT-X-KEY` attribute-lists as written, and parsed; all before the first segment (no key rotation). */
  keys: Array<{ attributes: string; key: HlsKey }>;
}

function checkMedia(text: string): MediaPlaylist {
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const out: MediaPlaylist = { version: 0, targetDuration: 0, mediaSequence: -1, segments: [], keys: [] };
  let ended = false;
  let sequence: number | undefined;
  let type: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    assert.ok(!ended, 'nothing after EXT-X-ENDLIST');
    const [tag, value] = line.split(/:(.*)/s);
    if (tag === '#EXT-X-VERSION') out.version = Number(value);
    else if (tag === '#EXT-X-TARGETDURATION') {
      assert.match(value, decimalInteger);
      out.targetDuration = Number(value);
    } else if (tag === '#EXT-X-MEDIA-SEQUENCE') {
      assert.equal(out.segments.length, 0, 'EXT-X-MEDIA-SEQUENCE before the first segment');
      sequence = Number(value);
    } else if (tag === '#EXT-X-PLAYLIST-TYPE') type = value;
    else if (tag === '#EXT-X-INDEPENDENT-SEGMENTS') assert.equal(value, undefined);
    else if (tag === '#EXT-X-MAP') {
      assert.equal(out.segments.length, 0, 'EXT-X-MAP before the first segment');
      const a = parseAttributes(value);
      assert.deepEqual([...a.keys()], ['URI']);
      out.map = unquote(a.get('URI') as string);
      assert.equal(out.keys.length, 0, 'EXT-X-KEY after EXT-X-MAP, so the init segment is clear');
    } else if (tag === '#EXT-X-KEY') {
      assert.equal(out.segments.length, 0, 'EXT-X-KEY before the first segment');
      const key = parseHlsKey(value);
      // No IV: the media sequence number is the IV (§5.2), which the segment encryptor takes from the segment index.
      assert.equal(key.iv, undefined);
      out.keys.push({ attributes: value, key });
    } else if (tag === '#EXTINF') {
      // Three decimals, empty title.
      const m = /^(\d+\.\d{3}),$/.exec(value);
      assert.ok(m, `EXTINF '${value}'`);
      const uri = lines[++i];
      assert.ok(uri && !uri.startsWith('#'), 'EXTINF is followed by its URI');
      out.segments.push({ durationSec: Number(m[1]), uri });
    } else if (tag === '#EXT-X-ENDLIST') ended = true;
    else assert.fail(`unexpected line ${i + 1}: '${line}'`);
  }
  assert.ok(ended, 'VOD playlists end with EXT-X-ENDLIST');
  assert.equal(type, 'VOD');
  assert.ok(sequence !== undefined && Number.isSafeInteger(sequence) && sequence >= 0, `EXT-X-MEDIA-SEQUENCE ${sequence}`);
  out.mediaSequence = sequence;
  assert.ok(out.targetDuration > 0);
  // §4.3.3.1: each EXTINF, rounded to the nearest integer, is at most the target duration.
  for (const s of out.segments) assert.ok(Math.round(s.durationSec) <= out.targetDuration, `${s.durationSec} > ${out.targetDuration}`);
  // §7: EXT-X-MAP in a playlist that is not I-frames-only needs version 6.
  if (out.map) assert.ok(out.version >= 6);
  // §7: KEYFORMAT and KEYFORMATVERSIONS need version 5.
  if (out.keys.some((k) => /KEYFORMAT/.test(k.attributes))) assert.ok(out.version >= 5, 'KEYFORMAT needs version 5');
  assert.ok(out.version >= 3, 'decimal EXTINF needs version 3');
  return out;
}

/**
 * Checks a media playlist's key tags against the protection: none for a clear track; else one per KEYFORMAT the
 * protection offers, each naming this track's key (Widevine/PlayReady headers decoded, URLs as the caller gave
 * them) with the scheme's METHOD.
 */
function checkKeys(keys: Array<{ key: HlsKey }>, track: PresentationTrack, ctx: ManifestContext): void {
  const protection = ctx.protection;
  const keyId = track.kind === 'text' ? undefined : protection?.keyIdOf(track);
  if (!protection || !keyId) {
    assert.equal(keys.length, 0, `${track.name} is clear`);
    return;
  }
  const method = { 'aes-128': 'AES-128', cenc: 'SAMPLE-AES-CTR', cbcs: 'SAMPLE-AES' }[protection.scheme];
  const cmaf = ctx.format === 'm3u8-cmaf';
  const expectedFormats =
    protection.scheme === 'aes-128'
      ? ['identity']
      : [
          ...(protection.scheme === 'cbcs' && protection.fairPlay ? ['com.apple.streamingkeydelivery'] : []),
          ...(cmaf && protection.widevine ? ['urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed'] : []),
          ...(cmaf && protection.playReady ? ['com.microsoft.playready'] : []),
          ...(protection.clearKey && protection.keyUrl ? ['identity'] : []),
        ];
  assert.deepEqual(
    keys.map((k) => k.key.keyFormat),
    expectedFormats,
  );
  for (const { key } of keys) {
    assert.equal(key.method, method);
    if (key.keyFormat === 'identity') assert.equal(key.uri, protection.keyUrl?.(keyId));
    else if (key.keyFormat === 'com.apple.streamingkeydelivery') assert.equal(key.uri, protection.fairPlay?.keyUri(keyId));
    else {
      assert.deepEqual(key.keyIds, [keyId]);
      assert.equal(key.keyFormatVersions, '1');
    }
    if (key.widevine) assert.equal(key.widevine.protectionScheme, protection.scheme);
    if (key.playReady) {
      assert.equal(key.playReady.keys[0].algId, protection.scheme === 'cbcs' ? 'AESCBC' : 'AESCTR');
      assert.equal(key.playReady.laUrl, protection.playReady?.licenseUrl);
    }
  }
  if (protection.scheme === 'aes-128') assert.doesNotMatch(JSON.stringify(keys), /KEYFORMAT/);
}

function findTrack(p: Presentation, bitrate: number, name: string): PresentationTrack {
  const t = p.tracks.find((x) => x.bitrateBps === bitrate && x.name === name);
  assert.ok(t, `no track ${name} at ${bitrate}`);
  return t;
}

/** Checks every playlist of the presentation and that every URI resolves to a request the origin accepts. */
function checkAll(p: Presentation, ctx: ManifestContext): { master: MasterPlaylist; media: Map<string, MediaPlaylist> } {
  const master = checkMaster(hlsMasterPlaylist(p, ctx));
  const media = new Map<string, MediaPlaylist>();
  const uris = new Set([...master.renditions.map((r) => r.uri), ...master.variants.map((v) => v.uri)]);
  const targets = new Set<number>();
  const mediaSampleAesKeys = new Set<string>();
  for (const uri of uris) {
    const req = parseMediaPlaylistPath(uri);
    assert.ok(req, uri);
    assert.equal(req.format, ctx.format);
    assert.deepEqual(req.options.extraOptions, ctx.extraOptions);
    const track = findTrack(p, req.bitrate, req.trackName);
    const playlist = checkMedia(hlsMediaPlaylist(p, track, ctx));
    media.set(uri, playlist);
    targets.add(playlist.targetDuration);
    assert.equal(playlist.version, master.version);
    assert.equal(playlist.segments.length, track.segments.length);
    // The first segment's index (0 unless filtered): AES-128 IVs are media sequence numbers.
    assert.equal(playlist.mediaSequence, track.segments.firstIndex);
    checkKeys(playlist.keys, track, ctx);
    for (const k of playlist.keys) if (k.key.method !== 'AES-128') mediaSampleAesKeys.add(k.attributes);
    // Segment URIs are relative to the playlist's own URL, QualityLevels(b)/.
    const base = `QualityLevels(${req.bitrate})/`;
    if (ctx.format === 'm3u8-cmaf') {
      const init = parseFragmentPath(base + (playlist.map as string));
      assert.deepEqual([init?.start, init?.trackName, init?.bitrate, init?.format], ['init', track.name, track.bitrateBps, ctx.format]);
    } else assert.equal(playlist.map, undefined);
    let sumMs = track.segments.length > 0 ? Math.round((track.segments.startTicks[0] * 1000) / track.track.timescale) : 0;
    playlist.segments.forEach((s, i) => {
      const f = parseFragmentPath(base + s.uri);
      assert.ok(f);
      assert.equal(f.start, track.segments.startTicks[i]);
      assert.equal(f.trackName, track.name);
      assert.equal(f.format, ctx.format);
      assert.deepEqual(f.options.extraOptions, ctx.extraOptions);
      // Each EXTINF within a millisecond of the segment; their sum never drifts from the timeline.
      assert.ok(Math.abs(s.durationSec - track.segments.durationTicks[i] / track.track.timescale) <= 0.001);
      sumMs += Math.round(s.durationSec * 1000);
      const endSec = (track.segments.startTicks[i] + track.segments.durationTicks[i]) / track.track.timescale;
      assert.ok(Math.abs(sumMs / 1000 - endSec) <= 0.0005 + 1e-9, `drift at segment ${i}`);
    });
  }
  // §6.2.4: the same target duration in every media playlist.
  assert.equal(targets.size, 1, `target durations ${[...targets]}`);
  // The session keys are exactly the SAMPLE-AES* keys of the media playlists (AES-128 keys are not repeated).
  assert.deepEqual(new Set(master.sessionKeys.map((k) => k.attributes)), mediaSampleAesKeys);
  return { master, media };
}

describe('hlsMasterPlaylist', () => {
  const p = twoRenditionPresentation();

  it('writes a CMAF multivariant playlist: audio renditions, variants by bandwidth, audio-only last', () => {
    const text = hlsMasterPlaylist(p, { format: 'm3u8-cmaf', extraOptions: [] });
    const { master } = checkAll(p, { format: 'm3u8-cmaf', extraOptions: [] });
    assert.equal(master.version, 7);
    assert.ok(master.independentSegments);
    assert.deepEqual(
      master.renditions.map((r) => [r.groupId, r.name, r.language, r.isDefault, r.channels]),
      [
        ['audio-mp4a.40.2', 'aac_eng_2_128', 'en', true, '2'],
        ['audio-mp4a.40.2', 'aac_fra_2_96', 'fr', false, '2'],
      ],
    );
    assert.deepEqual(
      master.variants.map((v) => [v.uri, v.codecs.join(','), v.resolution, v.frameRate, v.audio]),
      [
        ['QualityLevels(1200000)/Manifest(video,format=m3u8-cmaf)', 'avc1.4d401e,mp4a.40.2', '640x360', '25.000', 'audio-mp4a.40.2'],
        ['QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf)', 'avc1.64001f,mp4a.40.2', '1280x720', '25.000', 'audio-mp4a.40.2'],
        ['QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf)', 'mp4a.40.2', undefined, undefined, 'audio-mp4a.40.2'],
      ],
    );
    // Peak = video peak + the highest audio peak of the group; average likewise.
    const video720 = p.tracks[0];
    const audioPeak = Math.max(p.tracks[2].track.maxBitrateBps, p.tracks[3].track.maxBitrateBps);
    assert.equal(master.variants[1].bandwidth, video720.track.maxBitrateBps + audioPeak);
    assert.equal(master.variants[1].averageBandwidth, video720.track.bitrateBps + p.tracks[2].track.bitrateBps);
    assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,/);
  });

  it('carries filter and encryption into every URI, and drops the audio-only variant on audio-only=false', () => {
    const ctx: ManifestContext = { format: 'm3u8-cmaf', extraOptions: ['filter=f1;f2', 'encryption=cbcs-aapl'], audioOnlyVariant: false };
    const { master } = checkAll(p, ctx);
    assert.equal(master.variants.length, 2);
    for (const uri of [...master.variants.map((v) => v.uri), ...master.renditions.map((r) => r.uri)]) {
      assert.match(uri, /,format=m3u8-cmaf,filter=f1;f2,encryption=cbcs-aapl\)$/);
    }
  });

  it('writes TS playlists at version 4 without EXT-X-MAP', () => {
    const { master, media } = checkAll(p, { format: 'm3u8-aapl', extraOptions: [] });
    assert.equal(master.version, 4);
    for (const playlist of media.values()) {
      assert.equal(playlist.version, 4);
      assert.match(playlist.segments[0].uri, /^Fragments\((video|aac_\w+)=0,format=m3u8-aapl\)\.ts$/);
    }
  });

  it('lists the firstQuality variant first', () => {
    const { master } = checkAll(p, { format: 'm3u8-cmaf', extraOptions: [] });
    assert.match(master.variants[0].uri, /QualityLevels\(1200000\)/);
    const first = checkMaster(hlsMasterPlaylist(p, { format: 'm3u8-cmaf', extraOptions: [], firstQualityBitrateBps: 3000000 }));
    assert.match(first.variants[0].uri, /QualityLevels\(3400000\)/);
    assert.match(first.variants[1].uri, /QualityLevels\(1200000\)/);
  });

  it('writes H.265 variants at 29.97 fps with one target duration across audio and video', () => {
    const hevc = hevcPresentation();
    const { master, media } = checkAll(hevc, { format: 'm3u8-cmaf', extraOptions: [] });
    assert.deepEqual(master.variants[0].codecs, ['hvc1.1.6.L120.90', 'mp4a.40.2']);
    assert.equal(master.variants[0].frameRate, '29.970');
    assert.equal(master.variants[0].resolution, '1920x1080');
    // 2.002 s video and ~2.005 s audio segments round to a target duration of 2 in every playlist.
    for (const playlist of media.values()) assert.equal(playlist.targetDuration, 2);
    // A longer audio segment anywhere raises the target of the video playlists too (§6.2.4).
    const longer = {
      ...hevc,
      tracks: hevc.tracks.map((t) =>
        t.kind === 'audio' ? { ...t, segments: SegmentList.from(t.segments.toArray().map((s, i) => (i === 3 ? { ...s, durationTicks: 48000 * 2.6 } : s))) } : t,
      ),
    };
    assert.match(hlsMediaPlaylist(longer, longer.tracks[0], { format: 'm3u8-cmaf', extraOptions: [] }), /#EXT-X-TARGETDURATION:3\n/);
  });

  it('offers audio-only presentations as audio variants whatever audio-only says', () => {
    const audioOnly: Presentation = { ...p, tracks: p.tracks.filter((t) => t.kind === 'audio') };
    const { master } = checkAll(audioOnly, { format: 'm3u8-cmaf', extraOptions: [], audioOnlyVariant: false });
    assert.equal(master.variants.length, 1);
    assert.deepEqual(master.variants[0].codecs, ['mp4a.40.2']);
  });

  it('gives each audio codec its own group and a variant per video and group', () => {
    const ac3 = {
      ...p.tracks[2],
      name: 'ac3_eng_6_384',
      bitrateBps: 384000,
      track: { ...p.tracks[2].track, codecs: 'ac-3', fourcc: 'ac-3', audio: { channels: 6, sampleRate: 48000 } },
    };
    const mixed: Presentation = { ...p, tracks: [...p.tracks, ac3] };
    const { master } = checkAll(mixed, { format: 'm3u8-cmaf', extraOptions: [], audioOnlyVariant: false });
    assert.deepEqual(new Set(master.renditions.map((r) => r.groupId)), new Set(['audio-mp4a.40.2', 'audio-ac-3']));
    assert.equal(master.variants.length, 4);
    assert.ok(master.variants.some((v) => v.codecs.join(',') === 'avc1.64001f,ac-3' && v.audio === 'audio-ac-3'));
    assert.equal(master.renditions.find((r) => r.groupId === 'audio-ac-3')?.isDefault, true);
  });
});

describe('hlsMediaPlaylist', () => {
  it('writes the segments of a track with EXT-X-MAP and EXTINF to the millisecond', () => {
    const p = twoRenditionPresentation();
    const text = hlsMediaPlaylist(p, p.tracks[0], { format: 'm3u8-cmaf', extraOptions: ['filter=f1'] });
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 10), [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf,filter=f1).mp4"',
      '#EXTINF:2.000,',
      'Fragments(video=0,format=m3u8-cmaf,filter=f1).m4s',
      '#EXTINF:2.000,',
    ]);
    assert.deepEqual(lines.slice(-4), ['#EXTINF:1.000,', 'Fragments(video=768000,format=m3u8-cmaf,filter=f1).m4s', '#EXT-X-ENDLIST', '']);
    // Audio segments follow the video cuts in whole AAC frames, so their durations vary (1.984, 2.005…); the
    // EXTINFs are differences of boundaries rounded to the millisecond.
    const audio = checkMedia(hlsMediaPlaylist(p, p.tracks[2], { format: 'm3u8-cmaf', extraOptions: [] }));
    assert.deepEqual(
      audio.segments.slice(0, 4).map((s) => s.durationSec),
      [0, 1, 2, 3].map((i) => audioMs(p, i)),
    );
    assert.ok(new Set(audio.segments.map((s) => s.durationSec)).size > 1);
  });

  it('builds 2-hour playlists (3600 segments) in a few milliseconds', (t) => {
    const p = twoHourPresentation();
    const ctx: ManifestContext = { format: 'm3u8-cmaf', extraOptions: ['filter=f1'] };
    const { media } = checkAll(p, ctx);
    for (const playlist of media.values()) assert.equal(playlist.segments.length, 3600);
    const time = (fn: () => string) => {
      for (let i = 0; i < 20; i++) fn();
      const runs: number[] = [];
      for (let i = 0; i < 50; i++) {
        const start = performance.now();
        fn();
        runs.push(performance.now() - start);
      }
      runs.sort((a, b) => a - b);
      return { median: runs[25], p99: runs[49] };
    };
    const video = time(() => hlsMediaPlaylist(p, p.tracks[0], ctx));
    const audio = time(() => hlsMediaPlaylist(p, p.tracks[2], ctx));
    const master = time(() => hlsMasterPlaylist(p, ctx));
    t.diagnostic(`2 h media playlist (video, 3600 segments): median ${video.median.toFixed(2)} ms, max ${video.p99.toFixed(2)} ms`);
    t.diagnostic(`2 h media playlist (audio, 3600 segments): median ${audio.median.toFixed(2)} ms, max ${audio.p99.toFixed(2)} ms`);
    t.diagnostic(`multivariant playlist: median ${master.median.toFixed(3)} ms`);
    // Target < 5 ms; the bound leaves room for slow CI machines.
  });
});

describe('HLS protection signalling', () => {
  const p = twoRenditionPresentation();
  const videoKey = '11111111-2222-3333-4444-555555555555';
  const audioKey = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  const keyUrl = (keyId: string) => `https://reel.example/keydelivery/9a3c1b52-2d3e-4a8e-9a51-2b8f0c4f6a10/aes/${keyId}`;
  const keyIdOf = (t: PresentationTrack) => (t.kind === 'video' ? videoKey : audioKey);

  it('writes AES-128 keys after the init segment with no IV, media sequence from 0, and no session keys', () => {
    const protection: ManifestProtection = { scheme: 'aes-128', keyIdOf, keyUrl };
    for (const format of ['m3u8-cmaf', 'm3u8-aapl'] as const) {
      const { master, media } = checkAll(p, { format, extraOptions: ['encryption=cbc'], protection });
      assert.equal(master.sessionKeys.length, 0);
      assert.equal(master.version, format === 'm3u8-cmaf' ? 7 : 4);
      for (const playlist of media.values()) assert.equal(playlist.keys.length, 1);
    }
    const lines = hlsMediaPlaylist(p, p.tracks[0], { format: 'm3u8-cmaf', extraOptions: [], protection }).split('\n');
    assert.deepEqual(lines.slice(3, 9), [
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf).mp4"',
      `#EXT-X-KEY:METHOD=AES-128,URI="${keyUrl(videoKey)}"`,
      '#EXTINF:2.000,',
    ]);
  });

  it('writes CENC HLS-CMAF with Widevine, PlayReady and ClearKey identity keys, repeated as session keys', () => {
    const protection: ManifestProtection = {
      scheme: 'cenc',
      keyIdOf,
      keyUrl,
      widevine: {},
      playReady: { licenseUrl: 'https://pr.example/rightsmanager.asmx' },
      clearKey: { licenseUrl: 'https://reel.example/keydelivery/l/clearkey' },
    };
    const { master } = checkAll(p, { format: 'm3u8-cmaf', extraOptions: ['encryption=cenc'], protection });
    // Two keys × three formats.
    assert.equal(master.sessionKeys.length, 6);
    assert.match(
      hlsMasterPlaylist(p, { format: 'm3u8-cmaf', extraOptions: [], protection }),
      /^#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SESSION-KEY:/,
    );
  });

  it('writes CBCS with FairPlay first, and only FairPlay and identity for MPEG-TS at version 5', () => {
    const protection: ManifestProtection = {
      scheme: 'cbcs',
      // French audio clear: its playlist has no key, the others do.
      keyIdOf: (t) => (t.name === 'aac_fra_2_96' ? undefined : keyIdOf(t)),
      keyUrl,
      widevine: { licenseUrl: 'https://wv.example/l' },
      playReady: {},
      clearKey: { licenseUrl: 'https://reel.example/ck' },
      fairPlay: { keyUri: (keyId) => `skd://fps.example/${keyId}`, certificateUrl: 'https://fps.example/cert' },
    };
    const cmaf = checkAll(p, { format: 'm3u8-cmaf', extraOptions: ['encryption=cbcs-aapl'], protection });
    assert.equal(cmaf.master.sessionKeys.length, 8);
    assert.equal(cmaf.master.sessionKeys[0].key.keyFormat, 'com.apple.streamingkeydelivery');
    const ts = checkAll(p, { format: 'm3u8-aapl', extraOptions: ['encryption=cbcs-aapl'], protection });
    assert.equal(ts.master.version, 5);
    assert.deepEqual(
      ts.master.sessionKeys.map((k) => k.key.keyFormat),
      ['com.apple.streamingkeydelivery', 'identity', 'com.apple.streamingkeydelivery', 'identity'],
    );
  });

  it('refuses CENC on MPEG-TS, AES-128 without a key URL, and encryption no key format can signal', () => {
    const widevineOnly: ManifestProtection = { scheme: 'cbcs', keyIdOf, widevine: {} };
    assert.throws(() => hlsMediaPlaylist(p, p.tracks[0], { format: 'm3u8-aapl', extraOptions: [], protection: widevineOnly }), /No key format/);
    assert.throws(
      () => hlsMasterPlaylist(p, { format: 'm3u8-cmaf', extraOptions: [], protection: { scheme: 'cenc', keyIdOf, clearKey: { licenseUrl: 'https://x' } } }),
      /No key format/,
    );
    assert.throws(
      () => hlsMediaPlaylist(p, p.tracks[0], { format: 'm3u8-aapl', extraOptions: [], protection: { scheme: 'cenc', keyIdOf, keyUrl } }),
      /cannot carry CENC/,
    );
    assert.throws(
      () => hlsMediaPlaylist(p, p.tracks[0], { format: 'm3u8-cmaf', extraOptions: [], protection: { scheme: 'aes-128', keyIdOf } }),
      /needs a key URL/,
    );
  });

  it('checks a protected 2-hour playlist set', () => {
    const long = twoHourPresentation();
    const { media } = checkAll(long, {
      format: 'm3u8-cmaf',
      extraOptions: [],
      protection: { scheme: 'cenc', keyIdOf, keyUrl, clearKey: { licenseUrl: 'https://x/ck' } },
    });
    for (const playlist of media.values()) assert.deepEqual([playlist.segments.length, playlist.keys.length], [3600, 1]);
  });
});

/** The expected EXTINF of audio segment i: boundaries rounded to the millisecond, then subtracted. */
function audioMs(p: Presentation, i: number): number {
  const t = p.tracks[2];
  const s = t.segments.at(i);
  return (Math.round(((s.startTicks + s.durationTicks) * 1000) / 48000) - Math.round((s.startTicks * 1000) / 48000)) / 1000;
}

describe('HLS playlists of a filtered presentation', () => {
  const whole = twoRenditionPresentation();
  // Video and English audio, [11 s, 21 s) → segments 5…10 ([10 s, 22 s)), the 3400000 variant first.
  const clip = applyFilters(whole, [
    {
      name: 'clip',
      presentationTimeRange: { startTimestamp: 110_000_000, endTimestamp: 210_000_000 },
      firstQuality: { bitrate: 4_000_000 },
      tracks: [
        { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Video' }] },
        { trackSelections: [{ property: 'Language', operation: 'Equal', value: 'en' }] },
      ],
    },
  ]);

  for (const format of ['m3u8-cmaf', 'm3u8-aapl'] as const) {
    it(`lists the kept tracks and segments, with the unfiltered URLs and sequence numbers (${format})`, () => {
      const ctx: ManifestContext = { format, extraOptions: [] };
      const { master, media } = checkAll(clip, ctx);
      assert.match(master.variants[0].uri, /QualityLevels\(3400000\)/, 'firstQuality');
      assert.deepEqual(
        master.renditions.map((r) => r.name),
        ['aac_eng_2_128'],
      );
      const video = findTrack(clip, 1200000, 'video');
      const playlist = checkMedia(hlsMediaPlaylist(clip, video, ctx));
      const unfiltered = checkMedia(hlsMediaPlaylist(whole, findTrack(whole, 1200000, 'video'), ctx));
      assert.equal(playlist.mediaSequence, 5);
      assert.deepEqual(playlist.segments, unfiltered.segments.slice(5, 11));
      assert.equal(playlist.segments[0].uri, `Fragments(video=${10 * 12800},format=${format})${format === 'm3u8-cmaf' ? '.m4s' : '.ts'}`);
      const totalSec = playlist.segments.reduce((sum, s) => sum + s.durationSec, 0);
      assert.equal(Math.round(totalSec * 1000), 12_000);
      assert.equal(playlist.targetDuration, 2);
      for (const m of media.values()) assert.equal(m.mediaSequence, 5);
    });
  }

  it('keeps AES-128 sequence numbers (the IVs) of the unfiltered playlist', () => {
    const keyUrl = (id: string) => `https://keys/${id}`;
    const ctx: ManifestContext = {
      format: 'm3u8-aapl',
      extraOptions: [],
      protection: { scheme: 'aes-128', keyIdOf: () => '11111111-2222-3333-4444-555555555555', keyUrl },
    };
    const { media } = checkAll(clip, ctx);
    for (const m of media.values()) {
      assert.equal(m.mediaSequence, 5);
      assert.equal(m.keys[0].key.iv, undefined, 'the IV is the sequence number');
    }
  });

  it('lowers the target duration when the clip has only short segments', () => {
    // The last segment of the asset alone (1 s).
    const tail = applyFilters(whole, [{ name: 'tail', presentationTimeRange: { startTimestamp: 605_000_000 } }]);
    const playlist = checkMedia(hlsMediaPlaylist(tail, tail.tracks[0], { format: 'm3u8-cmaf', extraOptions: [] }));
    assert.equal(playlist.mediaSequence, 30);
    assert.equal(playlist.segments.length, 1);
    assert.equal(playlist.targetDuration, 1);
  });
});

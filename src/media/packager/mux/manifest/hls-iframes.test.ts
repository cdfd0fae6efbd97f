import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import { ArraySampleTable } from '../../model/sample-table.js';
import { SegmentList } from '../../model/segment.js';
import { hlsMasterPlaylist } from './hls.js';
import { hlsIFramePlaylist, iFrameStreamInfLines, keyframeAt, trackKeyframes } from './hls-iframes.js';
import { createManifestContext, parseFragmentPath, parseMediaPlaylistPath, parseManifestOptions, type ManifestContext } from './manifest-context.js';

/**
 * 10 frames at 25 fps (timescale 12800, 512 ticks a frame), keyframes at frames 0, 4 and 8; two segments, frames
 * 0–7 (two GOPs) and 8–9, so the first segment holds a keyframe that does not start it.
 */
function videoTrack(): PresentationTrack {
  const n = 10;
  const sizes = Uint32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 4000 : 500));
  const offsets = new Float64Array(n);
  for (let i = 1; i < n; i++) offsets[i] = offsets[i - 1] + sizes[i - 1];
  const samples = new ArraySampleTable({
    count: n,
    offsets,
    sizes,
    dts: Float64Array.from({ length: n }, (_, i) => i * 512),
    durations: new Uint32Array(n).fill(512),
    ctsOffsets: new Int32Array(n),
    isSync: Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0)),
  });
  return {
    name: 'video',
    kind: 'video',
    bitrateBps: 400000,
    language: 'und',
    sourceFile: 'video.mp4',
    segments: SegmentList.from([
      { firstSample: 0, sampleCount: 8, startTicks: 0, durationTicks: 4096 },
      { firstSample: 8, sampleCount: 2, startTicks: 4096, durationTicks: 1024 },
    ]),
    track: {
      trackId: 1,
      kind: 'video',
      fourcc: 'avc1',
      codecs: 'avc1.64001e',
      timescale: 12800,
      durationTicks: 5120,
      language: 'und',
      bitrateBps: 400000,
      maxBitrateBps: 400000,
      sampleEntry: new Uint8Array(0),
      editMediaTimeTicks: 0,
      video: { width: 640, height: 360, frameRate: 25 },
      samples,
    },
  };
}

const presentation = (): Presentation => ({ durationSec: 0.4, targetSegmentSec: 0.32, tracks: [videoTrack()] });
const cmaf = (options = 'format=m3u8-cmaf'): ManifestContext => createManifestContext('m3u8-cmaf', parseManifestOptions(options));

describe('HLS I-frame playlists', () => {
  it('lists every keyframe, and only keyframes, each as its own one-keyframe fragment', () => {
    const p = presentation();
    const text = hlsIFramePlaylist(p, p.tracks[0], cmaf());
    assert.equal(
      text,
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:1',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-I-FRAMES-ONLY',
        '#EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf).mp4"',
        '#EXTINF:0.160,',
        'Fragments(video=0,format=m3u8-cmaf,type=keyframes).m4s',
        '#EXTINF:0.160,',
        'Fragments(video=2048,format=m3u8-cmaf,type=keyframes).m4s',
        '#EXTINF:0.080,',
        'Fragments(video=4096,format=m3u8-cmaf,type=keyframes).m4s',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });

  it('names keyframe fragments the origin routes back to the keyframe (options carried, type after format)', () => {
    const p = presentation();
    const text = hlsIFramePlaylist(p, p.tracks[0], cmaf('format=m3u8-cmaf,filter=f1'));
    const uris = text!.split('\n').filter((l) => l.startsWith('Fragments('));
    assert.equal(uris[1], 'Fragments(video=2048,format=m3u8-cmaf,type=keyframes,filter=f1).m4s');
    for (const uri of uris) {
      const request = parseFragmentPath(`QualityLevels(400000)/${uri}`);
      assert.ok(request?.keyframes, uri);
      assert.deepEqual(request.options.filters, ['f1']);
      assert.ok(typeof request.start === 'number' && keyframeAt(p.tracks[0], request.start), uri);
    }
  });

  it('MPEG-TS I-frame playlists: version 4, no EXT-X-MAP, .ts entries', () => {
    const p = presentation();
    const text = hlsIFramePlaylist(p, p.tracks[0], createManifestContext('m3u8-aapl', parseManifestOptions('format=m3u8-aapl')))!;
    assert.match(text, /#EXT-X-VERSION:4\n/);
    assert.doesNotMatch(text, /EXT-X-MAP/);
    assert.match(text, /\nFragments\(video=2048,format=m3u8-aapl,type=keyframes\)\.ts\n/);
  });

  it('the multivariant playlist offers one EXT-X-I-FRAME-STREAM-INF per video track, whose URI is an I-frame playlist', () => {
    const p = presentation();
    const master = hlsMasterPlaylist(p, cmaf());
    const lines = master.split('\n').filter((l) => l.startsWith('#EXT-X-I-FRAME-STREAM-INF:'));
    assert.equal(lines.length, 1, master);
    const m = /^#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+),CODECS="avc1\.64001e",RESOLUTION=640x360,URI="([^"]+)"$/.exec(lines[0]);
    assert.ok(m, lines[0]);
    // Peak: (4000 + 160 bytes) × 8 over the 80 ms last entry; average: all three entries over 0.4 s.
    assert.equal(Number(m[1]), Math.ceil((4160 * 8) / 0.08));
    assert.equal(Number(m[2]), Math.ceil((3 * 4160 * 8) / 0.4));
    assert.equal(m[3], 'QualityLevels(400000)/Manifest(video,format=m3u8-cmaf,type=keyframes)');
    const request = parseMediaPlaylistPath(m[3]);
    assert.equal(request?.keyframes, true);
    assert.equal(request.format, 'm3u8-cmaf');
  });

  it("protected presentations carry their media playlists' key tags; TS only with AES-128", () => {
    const p = presentation();
    const keyId = '00000000-0000-0000-0000-000000000001';
    const keyUrl = (id: string) => `https://k/${id}`;
    const cbcs: ManifestContext = { ...cmaf(), protection: { scheme: 'cbcs', keyIdOf: () => keyId, keyUrl, clearKey: { licenseUrl: 'https://k/licence' } } };
    assert.equal(iFrameStreamInfLines(p, cbcs).length, 1);
    const playlist = hlsIFramePlaylist(p, p.tracks[0], cbcs)!;
    const lines = playlist.split('\n');
    // The key follows EXT-X-MAP (the init segment stays clear) and precedes every entry.
    const map = lines.findIndex((l) => l.startsWith('#EXT-X-MAP'));
    assert.equal(lines[map + 1], `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="https://k/${keyId}",KEYFORMAT="identity",KEYFORMATVERSIONS="1"`);
    assert.ok(lines.findIndex((l) => l.startsWith('#EXTINF')) > map + 1);
    const ts = (protection: ManifestContext['protection']): ManifestContext => ({
      ...createManifestContext('m3u8-aapl', parseManifestOptions('format=m3u8-aapl')),
      protection,
    });
    const envelope = ts({ scheme: 'aes-128', keyIdOf: () => keyId, keyUrl });
    assert.match(hlsIFramePlaylist(p, p.tracks[0], envelope)!, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="https://k/${keyId}"\n#EXTINF`));
    assert.equal(
      hlsIFramePlaylist(p, p.tracks[0], ts({ scheme: 'cbcs', keyIdOf: () => keyId, keyUrl, clearKey: { licenseUrl: 'https://k/licence' } })),
      undefined,
    );
    assert.deepEqual(iFrameStreamInfLines(p, createManifestContext('mpd-time-cmaf')), []);
    const audio: PresentationTrack = { ...videoTrack(), kind: 'audio' };
    assert.equal(hlsIFramePlaylist(p, audio, cmaf()), undefined);
    assert.equal(keyframeAt(audio, 0), undefined);
  });

  it('numbers entries by keyframe ordinal of the whole track, also when a filter starts the playlist later', () => {
    const p = presentation();
    const track = p.tracks[0];
    assert.deepEqual(
      [0, 2048, 4096].map((dts) => keyframeAt(track, dts)?.ordinal),
      [0, 1, 2],
    );
    assert.match(hlsIFramePlaylist(p, track, cmaf())!, /#EXT-X-MEDIA-SEQUENCE:0\n/);
    // The second segment alone (a clip from 4096): its one keyframe is the track's third.
    const clip: PresentationTrack = { ...track, segments: track.segments.slice(1, 2) };
    assert.match(hlsIFramePlaylist({ ...p, tracks: [clip] }, clip, cmaf())!, /#EXT-X-MEDIA-SEQUENCE:2\n/);
  });

  it('keyframeAt finds keyframes by decode time, and nothing else', () => {
    const t = videoTrack();
    assert.deepEqual(keyframeAt(t, 2048), { sample: 4, durationTicks: 512, segmentIndex: 0, ordinal: 1 });
    assert.deepEqual(keyframeAt(t, 4096), { sample: 8, durationTicks: 512, segmentIndex: 1, ordinal: 2 });
    assert.equal(keyframeAt(t, 512), undefined, 'not a keyframe');
    assert.equal(keyframeAt(t, 2047), undefined, 'no sample there');
    assert.equal(keyframeAt(t, 99999), undefined, 'after the end');
    assert.deepEqual(Array.from(trackKeyframes(t).durations), [2048, 2048, 1024]);
  });
});

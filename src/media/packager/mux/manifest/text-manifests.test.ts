import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Presentation, PresentationTrack } from '../../model/presentation.js';
import type { TrackIndex } from '../../model/media-index.js';
import { SegmentList } from '../../model/segment.js';
import { ArraySampleTable } from '../../model/sample-table.js';
import { dashMpd } from './dash.js';
import { hlsMasterPlaylist, hlsMediaPlaylist } from './hls.js';
import { createManifestContext } from './manifest-context.js';

/** Two 2 s segments in `timescale` ticks. */
function segments(timescale: number): SegmentList {
  return SegmentList.from([
    { firstSample: 0, sampleCount: 1, startTicks: 0, durationTicks: 2 * timescale },
    { firstSample: 1, sampleCount: 1, startTicks: 2 * timescale, durationTicks: 2 * timescale },
  ]);
}

/** Two 2 s sync samples of 1000 bytes (the I-frame playlist reads the video's). */
function twoSamples(timescale: number): ArraySampleTable {
  return new ArraySampleTable({
    count: 2,
    offsets: Float64Array.of(0, 1000),
    sizes: Uint32Array.of(1000, 1000),
    dts: Float64Array.of(0, 2 * timescale),
    durations: Uint32Array.of(2 * timescale, 2 * timescale),
    ctsOffsets: new Int32Array(2),
    isSync: Uint8Array.of(1, 1),
  });
}

function track(name: string, kind: PresentationTrack['kind'], fields: Partial<TrackIndex>, bitrateBps: number, language = 'und'): PresentationTrack {
  const timescale = fields.timescale ?? 1000;
  return {
    name,
    kind,
    bitrateBps,
    language,
    sourceFile: `${name}.mp4`,
    track: { kind, timescale, bitrateBps, maxBitrateBps: bitrateBps, editMediaTimeTicks: 0, samples: twoSamples(timescale), ...fields } as TrackIndex,
    segments: segments(timescale),
  };
}

const video = track('video', 'video', { timescale: 90000, fourcc: 'avc1', codecs: 'avc1.64001e', video: { width: 640, height: 360, frameRate: 25 } }, 800000);
const audio = track('aac_eng', 'audio', { timescale: 48000, fourcc: 'mp4a', codecs: 'mp4a.40.2', audio: { channels: 2, sampleRate: 48000 } }, 128000, 'eng');
const ttml = track('ttml_eng', 'text', { fourcc: 'stpp', codecs: 'stpp' }, 1200, 'eng');
const vtt = track('vtt_fre', 'text', { fourcc: 'wvtt', codecs: 'wvtt' }, 900, 'fre');
const p: Presentation = {
  durationSec: 4,
  targetSegmentSec: 2,
  tracks: [video, audio, ttml, vtt],
  textTracks: [{ name: 'sub_eng', language: 'eng', sourceFile: 'clip_eng.vtt' }],
};

describe('text tracks inside MP4s in manifests', () => {
  it('DASH: one text AdaptationSet per language and codec, fMP4 segments on the same timeline (cmaf and csf)', () => {
    for (const format of ['mpd-time-cmaf', 'mpd-time-csf'] as const) {
      const mpd = dashMpd(p, createManifestContext(format));
      const lines = mpd.split('\n');
      const at = lines.findIndex((l) => l.includes('stpp'));
      assert.deepEqual(lines.slice(at - 2, at + 8), [
        '    <AdaptationSet id="3" contentType="text" mimeType="application/mp4" segmentAlignment="true" startWithSAP="1" lang="en">',
        '      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>',
        '      <Representation id="ttml_eng_1200" bandwidth="1200" codecs="stpp">',
        `        <SegmentTemplate timescale="1000" initialization="QualityLevels($Bandwidth$)/Fragments(ttml_eng=i,format=${format})" media="QualityLevels($Bandwidth$)/Fragments(ttml_eng=$Time$,format=${format})">`,
        '          <SegmentTimeline>',
        '            <S t="0" d="2000" r="1"/>',
        '          </SegmentTimeline>',
        '        </SegmentTemplate>',
        '      </Representation>',
        '    </AdaptationSet>',
      ]);
      assert.ok(
        mpd.includes(
          '    <AdaptationSet id="4" contentType="text" mimeType="application/mp4" segmentAlignment="true" startWithSAP="1" lang="fr">\n' +
            '      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/>\n' +
            '      <Representation id="vtt_fre_900" bandwidth="900" codecs="wvtt">',
        ),
      );
      // The side-loaded file keeps its whole-file set after them.
      assert.match(mpd, /<AdaptationSet id="5" contentType="text" mimeType="text\/vtt" lang="en">/);
    }
  });

  it('HLS CMAF: WebVTT renditions (side-loaded, wvtt) and IMSC1 (stpp) in their own SUBTITLES groups, a variant for each', () => {
    const ctx = createManifestContext('m3u8-cmaf');
    const master = hlsMasterPlaylist(p, ctx);
    assert.deepEqual(
      master.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=SUBTITLES')),
      [
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="sub_eng",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="QualityLevels(1000)/Manifest(sub_eng,format=m3u8-cmaf)"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs-imsc1",NAME="ttml_eng",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="QualityLevels(1200)/Manifest(ttml_eng,format=m3u8-cmaf)"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="vtt_fre",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="QualityLevels(900)/Manifest(vtt_fre,format=m3u8-cmaf)"',
      ],
    );
    // One format per group: each video variant twice, once per SUBTITLES group, IMSC1 named in CODECS.
    const variants = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF') && l.includes('RESOLUTION'));
    assert.equal(variants.length, 2);
    assert.match(variants[0], /CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio-mp4a.40.2",SUBTITLES="subs"$/);
    assert.match(
      variants[1],
      /CODECS="avc1.64001e,mp4a.40.2,stpp.ttml.im1t",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio-mp4a.40.2",SUBTITLES="subs-imsc1"$/,
    );
  });

  it('HLS CMAF media playlists: stpp as fMP4 behind EXT-X-MAP, wvtt as WebVTT segments without one', () => {
    const ctx = createManifestContext('m3u8-cmaf');
    const stpp = hlsMediaPlaylist(p, ttml, ctx).split('\n');
    assert.ok(stpp.includes('#EXT-X-MAP:URI="Fragments(ttml_eng=i,format=m3u8-cmaf).mp4"'));
    assert.deepEqual(stpp.slice(-6), [
      '#EXTINF:2.000,',
      'Fragments(ttml_eng=0,format=m3u8-cmaf).m4s',
      '#EXTINF:2.000,',
      'Fragments(ttml_eng=2000,format=m3u8-cmaf).m4s',
      '#EXT-X-ENDLIST',
      '',
    ]);
    const wvtt = hlsMediaPlaylist(p, vtt, ctx).split('\n');
    assert.ok(!wvtt.some((l) => l.startsWith('#EXT-X-MAP')));
    assert.deepEqual(wvtt.slice(-6), [
      '#EXTINF:2.000,',
      'Fragments(vtt_fre=0,format=m3u8-cmaf).vtt',
      '#EXTINF:2.000,',
      'Fragments(vtt_fre=2000,format=m3u8-cmaf).vtt',
      '#EXT-X-ENDLIST',
      '',
    ]);
  });

  it('HLS TS: wvtt as WebVTT segments, stpp left out (no TTML to WebVTT conversion)', () => {
    const ctx = createManifestContext('m3u8-aapl');
    const master = hlsMasterPlaylist(p, ctx);
    assert.ok(!master.includes('ttml_eng'));
    assert.ok(!master.includes('stpp'));
    assert.match(master, /NAME="vtt_fre",LANGUAGE="fr",.*URI="QualityLevels\(900\)\/Manifest\(vtt_fre,format=m3u8-aapl\)"/);
    assert.ok(hlsMediaPlaylist(p, vtt, ctx).includes('\nFragments(vtt_fre=2000,format=m3u8-aapl).vtt\n'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lowLatencyRecording, partsOf } from './test-presentations.js';
import { hlsMediaPlaylist } from './hls.js';
import type { ManifestContext } from './manifest-context.js';

const presentation = lowLatencyRecording;

const cmaf: ManifestContext = { format: 'm3u8-cmaf', extraOptions: [] };
const part = (start: number, k: number, duration: string, independent = false) =>
  `#EXT-X-PART:DURATION=${duration},URI="Fragments(video=${start},format=m3u8-cmaf,part=${k}).m4s"${independent ? ',INDEPENDENT=YES' : ''}`;

describe('LL-HLS media playlists (LowLatency live)', () => {
  it('writes server control, part info, the parts of the last segments and of the open one, and a preload hint', () => {
    const { p, video } = presentation({ parts: [...partsOf(5), ...partsOf(6), ...partsOf(7), ...partsOf(8, 1)] });
    assert.deepEqual(hlsMediaPlaylist(p, video, cmaf).split('\n'), [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500',
      '#EXT-X-PART-INF:PART-TARGET=0.500',
      '#EXT-X-MEDIA-SEQUENCE:5',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf).mp4"',
      '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:05.000Z',
      part(450000, 0, '0.480', true),
      part(450000, 1, '0.480'),
      part(450000, 2, '0.040'),
      '#EXTINF:1.000,',
      'Fragments(video=450000,format=m3u8-cmaf).m4s',
      part(540000, 0, '0.480', true),
      part(540000, 1, '0.480'),
      part(540000, 2, '0.040'),
      '#EXTINF:1.000,',
      'Fragments(video=540000,format=m3u8-cmaf).m4s',
      part(630000, 0, '0.480', true),
      part(630000, 1, '0.480'),
      part(630000, 2, '0.040'),
      '#EXTINF:1.000,',
      'Fragments(video=630000,format=m3u8-cmaf).m4s',
      part(720000, 0, '0.480', true),
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="Fragments(video=720000,format=m3u8-cmaf,part=1).m4s"',
      '',
    ]);
  });

  it('hints the first part of the next segment when the open one has no part yet, and carries the URL options', () => {
    const { p, video } = presentation({ parts: [...partsOf(6), ...partsOf(7)] });
    const text = hlsMediaPlaylist(p, video, { ...cmaf, extraOptions: ['filter=f1'] });
    const l = text.split('\n');
    assert.equal(l.filter((x) => x.startsWith('#EXT-X-PART:')).length, 6);
    assert.ok(l.includes('#EXT-X-PART:DURATION=0.480,URI="Fragments(video=540000,format=m3u8-cmaf,part=0,filter=f1).m4s",INDEPENDENT=YES'), text);
    assert.equal(l.at(-2), '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="Fragments(video=720000,format=m3u8-cmaf,part=0,filter=f1).m4s"');
    assert.equal(l.at(-3), 'Fragments(video=630000,format=m3u8-cmaf,filter=f1).m4s');
  });

  it("hints the next segment's first part when the track has closed the open segment before the other tracks", () => {
    // Segment 8's three parts are written (the last one ends it) while the audio has not closed segment 8 yet.
    const { p, video } = presentation({ parts: [...partsOf(7), ...partsOf(8)] });
    const l = hlsMediaPlaylist(p, video, cmaf).split('\n');
    assert.deepEqual(l.slice(-5), [
      part(720000, 0, '0.480', true),
      part(720000, 1, '0.480'),
      part(720000, 2, '0.040'),
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="Fragments(video=810000,format=m3u8-cmaf,part=0).m4s"',
      '',
    ]);
  });

  it('drops the hint once ingest has ended, and stays regular live HLS for TS, protected or Default streams', () => {
    const parts = [...partsOf(7), ...partsOf(8, 2)];
    const ended = presentation({ parts, isEnded: true });
    const text = hlsMediaPlaylist(ended.p, ended.video, cmaf);
    assert.ok(!text.includes('#EXT-X-PRELOAD-HINT'));
    assert.ok(text.includes('#EXT-X-PART-INF:PART-TARGET=0.500'));
    assert.ok(text.trimEnd().endsWith('#EXT-X-ENDLIST'));

    const regular = (t: string) => !/#EXT-X-(PART|SERVER-CONTROL|PRELOAD-HINT)/.test(t);
    const live = presentation({ parts });
    assert.ok(regular(hlsMediaPlaylist(live.p, live.video, { format: 'm3u8-aapl', extraOptions: [] })), 'TS');
    const protectedCtx: ManifestContext = {
      ...cmaf,
      protection: { scheme: 'cbcs', keyIdOf: () => '0123456789abcdef0123456789abcdef', keyUrl: (k) => `https://k/${k}`, clearKey: { licenseUrl: 'https://l' } },
    };
    assert.ok(regular(hlsMediaPlaylist(live.p, live.video, protectedCtx)), 'protected');
    const defaultLive = presentation({ parts, partTargetSec: 0 });
    assert.ok(regular(hlsMediaPlaylist(defaultLive.p, defaultLive.video, cmaf)), 'no part target');
    const noParts = presentation();
    assert.ok(regular(hlsMediaPlaylist(noParts.p, noParts.video, cmaf)), 'a track without parts');
  });

  it('writes EXT-X-DISCONTINUITY before the parts of a segment after a discontinuity, the open one included', () => {
    const withDiscontinuities = (discontinuities: number[], parts = [...partsOf(6), ...partsOf(7), ...partsOf(8, 1)], isEnded = false) => {
      const { p, video } = presentation({ parts, isEnded });
      p.live = { ...p.live!, discontinuities };
      return hlsMediaPlaylist(p, video, cmaf).split('\n');
    };
    const closed = withDiscontinuities([7]);
    const at = closed.indexOf('#EXT-X-DISCONTINUITY');
    assert.deepEqual(closed.slice(at - 1, at + 2), ['Fragments(video=540000,format=m3u8-cmaf).m4s', '#EXT-X-DISCONTINUITY', part(630000, 0, '0.480', true)]);
    assert.equal(closed.filter((x) => x === '#EXT-X-DISCONTINUITY').length, 1);

    // The open segment 8 starts after one: the tag precedes its first part.
    const open = withDiscontinuities([8]);
    assert.deepEqual(open.slice(-5), [
      'Fragments(video=630000,format=m3u8-cmaf).m4s',
      '#EXT-X-DISCONTINUITY',
      part(720000, 0, '0.480', true),
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="Fragments(video=720000,format=m3u8-cmaf,part=1).m4s"',
      '',
    ]);
    // …and when it has no part yet, before the hint of its first part.
    const hinted = withDiscontinuities([8], [...partsOf(6), ...partsOf(7)]);
    assert.deepEqual(hinted.slice(-3), ['#EXT-X-DISCONTINUITY', '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="Fragments(video=720000,format=m3u8-cmaf,part=0).m4s"', '']);
    // Ended with nothing of segment 8: no tag for a segment that never came.
    assert.ok(!withDiscontinuities([8], [...partsOf(6), ...partsOf(7)], true).includes('#EXT-X-DISCONTINUITY'));
  });
});

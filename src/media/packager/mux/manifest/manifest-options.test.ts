/**
 * Issue 15's manifest options: `type=keyframes` in media playlist and fragment URLs, the URL time options as
 * filter definitions, `audio-only=`, and DASH timing of presentations that do not start at 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../../../shared/errors.js';
import { dashMpd, presentationStart } from './dash.js';
import { hlsMasterPlaylist } from './hls.js';
import {
  createManifestContext,
  iFramePlaylistUrl,
  keyframeFragmentName,
  parseFragmentPath,
  parseManifestOptions,
  parseMediaPlaylistPath,
} from './manifest-context.js';
import { timeOptionFilters, urlTrimFilterName, urlWindowFilterName } from './option-filters.js';
import { makeTrack, twoRenditionPresentation } from '../../../../../test/fixtures/hand-built-presentations.js';

function rejects(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('manifest options: type=keyframes (HLS I-frame playlists)', () => {
  it('media playlist and fragment URLs carry it anywhere among the options, case-insensitively', () => {
    const playlist = parseMediaPlaylistPath('QualityLevels(400000)/Manifest(video,format=m3u8-aapl,type=keyframes)');
    assert.equal(playlist?.keyframes, true);
    assert.equal(playlist.format, 'm3u8-aapl');
    assert.deepEqual(playlist.options.extraOptions, []);
    const fragment = parseFragmentPath('QualityLevels(400000)/Fragments(video=2048,filter=a,TYPE=KeyFrames,format=m3u8-cmaf).m4s');
    assert.equal(fragment?.keyframes, true);
    assert.equal(fragment.start, 2048);
    assert.deepEqual(fragment.options.extraOptions, ['filter=a']);
    assert.equal(parseMediaPlaylistPath('QualityLevels(400000)/Manifest(video,format=m3u8-cmaf)')?.keyframes, undefined);
    assert.equal(parseFragmentPath('QualityLevels(400000)/Fragments(video=0,format=m3u8-cmaf)')?.keyframes, undefined);
  });

  it('rejects other types, a repeated type, init keyframes, DASH keyframes and type= on the manifest itself', () => {
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(video,format=m3u8-cmaf,type=audio)'), 'InvalidPlaybackPath', /type must be 'keyframes'/);
    rejects(() => parseFragmentPath('QualityLevels(1)/Fragments(video=0,format=m3u8-cmaf,type=keyframes,type=keyframes)'), 'InvalidPlaybackPath', /twice/);
    rejects(() => parseFragmentPath('QualityLevels(1)/Fragments(video=i,format=m3u8-cmaf,type=keyframes)'), 'InvalidPlaybackPath', /decode time/);
    rejects(() => parseFragmentPath('QualityLevels(1)/Fragments(video=0,format=mpd-time-cmaf,type=keyframes)'), 'InvalidPlaybackPath', /m3u8/);
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(video,format=mpd-time-cmaf,type=keyframes)'), 'InvalidPlaybackPath', /m3u8/);
    rejects(() => parseManifestOptions('format=m3u8-cmaf,type=keyframes'), 'InvalidManifestOptions', /unknown option 'type'/);
  });

  it('URL builders put type right after format, before the carried options', () => {
    const track = twoRenditionPresentation().tracks[0];
    const ctx = createManifestContext('m3u8-cmaf', parseManifestOptions('format=m3u8-cmaf,filter=f1,vbegin=PT2S'));
    assert.equal(iFramePlaylistUrl(track, ctx), 'QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf,type=keyframes,filter=f1,vbegin=PT2S)');
    assert.equal(keyframeFragmentName(track, 25600, ctx), 'Fragments(video=25600,format=m3u8-cmaf,type=keyframes,filter=f1,vbegin=PT2S)');
  });
});

describe('manifest options: audio-only=', () => {
  it('audio-only=false drops the audio-only variants; the default (and audio-only=true) keeps them', () => {
    const p = twoRenditionPresentation();
    const variants = (options: string) =>
      hlsMasterPlaylist(p, createManifestContext('m3u8-cmaf', parseManifestOptions(options)))
        .split('\n')
        .filter((l) => l.startsWith('#EXT-X-STREAM-INF'));
    const audioOnly = (lines: string[]) => lines.filter((l) => !l.includes('RESOLUTION=')).length;
    assert.equal(audioOnly(variants('format=m3u8-cmaf')), 1);
    assert.equal(audioOnly(variants('format=m3u8-cmaf,audio-only=true')), 1);
    assert.equal(audioOnly(variants('format=m3u8-cmaf,audio-only=FALSE')), 0);
    assert.equal(variants('format=m3u8-cmaf,audio-only=false').length, 2);
    rejects(() => parseManifestOptions('format=m3u8-cmaf,audio-only=no'), 'InvalidManifestOptions', /true or false/);
  });
});

describe('manifest options: vbegin/vend and start/end as filter definitions', () => {
  it('vbegin/vend become a presentationTimeRange in 100 ns units', () => {
    assert.deepEqual(timeOptionFilters(parseManifestOptions('format=m3u8-cmaf,vbegin=PT10S,vend=PT1M0.5S')), [
      { name: urlTrimFilterName, presentationTimeRange: { timescale: 10_000_000, startTimestamp: 100_000_000, endTimestamp: 605_000_000 } },
    ]);
    assert.deepEqual(timeOptionFilters(parseManifestOptions('format=m3u8-cmaf,vend=PT2S')), [
      { name: urlTrimFilterName, presentationTimeRange: { timescale: 10_000_000, endTimestamp: 20_000_000 } },
    ]);
  });

  it('start/end become a window in milliseconds from the presentation origin (the epoch by default)', () => {
    const options = parseManifestOptions('format=mpd-time-cmaf,start=2024-01-01T00:00:10Z,end=2024-01-01T00:01:00Z');
    const origin = Date.parse('2024-01-01T00:00:00Z');
    assert.deepEqual(timeOptionFilters(options, origin), [
      { name: urlWindowFilterName, presentationTimeRange: { timescale: 1000, startTimestamp: 10_000, endTimestamp: 60_000 } },
    ]);
    const [epoch] = timeOptionFilters(options);
    assert.equal(epoch.presentationTimeRange?.startTimestamp, origin + 10_000);
    assert.ok(Number.isSafeInteger(epoch.presentationTimeRange?.endTimestamp));
    // An instant before the origin asks for everything from the origin on.
    assert.equal(timeOptionFilters(parseManifestOptions('start=2023-12-31T00:00:00Z'), origin)[0].presentationTimeRange?.startTimestamp, 0);
  });

  it('no time option, no filter; both kinds, two filters; names no stored filter can have', () => {
    assert.deepEqual(timeOptionFilters(parseManifestOptions('format=m3u8-cmaf,filter=a')), []);
    const both = timeOptionFilters(parseManifestOptions('format=m3u8-cmaf,vbegin=PT1S,end=2030-01-01T00:00:00Z'));
    assert.deepEqual(
      both.map((f) => f.name),
      [urlTrimFilterName, urlWindowFilterName],
    );
    for (const f of both) rejects(() => parseManifestOptions(`filter=${f.name}`), 'InvalidManifestOptions');
  });
});

describe('DASH timing of presentations that do not start at 0', () => {
  it('an untrimmed presentation has no presentationTimeOffset', () => {
    const p = twoRenditionPresentation();
    assert.equal(presentationStart(p).ticks, 0);
    assert.doesNotMatch(dashMpd(p, createManifestContext('mpd-time-cmaf')), /presentationTimeOffset/);
  });

  it('a presentation whose first segments start later maps its earliest start to Period time 0, in each timescale', () => {
    // Video cut at 10 s (timescale 12800), audio at 9.984 s (timescale 48000): the earlier start is the offset.
    const video = makeTrack({
      kind: 'video',
      name: 'video',
      bitrateBps: 1000000,
      timescale: 12800,
      fourcc: 'avc1',
      codecs: 'avc1.64001f',
      video: { width: 640, height: 360, frameRate: 25 },
      durations: [25600, 25600],
      firstStartTicks: 128000,
    });
    const audio = makeTrack(
      {
        kind: 'audio',
        name: 'aac',
        bitrateBps: 128000,
        timescale: 48000,
        fourcc: 'mp4a',
        codecs: 'mp4a.40.2',
        audio: { channels: 2, sampleRate: 48000 },
        durations: [96256, 96256],
        firstStartTicks: 479232,
      },
      2,
    );
    const p = { durationSec: 4, targetSegmentSec: 2, tracks: [video, audio] };
    assert.deepEqual(presentationStart(p), { ticks: 479232, timescale: 48000 });
    const mpd = dashMpd(p, createManifestContext('mpd-time-cmaf'));
    const templates = [...mpd.matchAll(/<SegmentTemplate timescale="(\d+)" presentationTimeOffset="(\d+)"/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(templates, [
      ['12800', String(Math.floor(9.984 * 12800))],
      ['48000', '479232'],
    ]);
    // S@t stays the decode time that $Time$ names.
    assert.match(mpd, /<S t="128000" d="25600" r="1"\/>/);
    assert.match(mpd, /<S t="479232" d="96256" r="1"\/>/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../shared/errors.js';
import { parsePlaybackPath } from './playback-path.js';

const formatOf = (path: string) => {
  const r = parsePlaybackPath(path);
  assert.equal(r.kind, 'manifest');
  return r.options.format;
};

describe('playback paths: manifest suffix aliases (MKIO-API.md §17.1)', () => {
  it('.m3u8 and .mpd pick HLS and DASH in CMAF when format= is absent', () => {
    assert.equal(formatOf('clip.ism/manifest.m3u8'), 'm3u8-cmaf');
    assert.equal(formatOf('clip.ism/Manifest.MPD'), 'mpd-time-cmaf');
    assert.equal(formatOf('clip.ism/manifest(filter=a).m3u8'), 'm3u8-cmaf');
    assert.equal(formatOf('clip.ism/manifest(audio-only=false).m3u8'), 'm3u8-cmaf');
    assert.equal(formatOf('clip.ism/manifest'), 'smooth');
  });

  it('with format= the suffix must agree', () => {
    assert.equal(formatOf('clip.ism/manifest(format=m3u8-aapl).m3u8'), 'm3u8-aapl');
    assert.equal(formatOf('clip.ism/manifest(format=mpd-time-csf).mpd'), 'mpd-time-csf');
    for (const path of ['clip.ism/manifest(format=mpd-time-cmaf).m3u8', 'clip.ism/manifest(format=m3u8-cmaf).mpd']) {
      assert.throws(
        () => parsePlaybackPath(path),
        (err: unknown) => err instanceof BadRequestError && err.code === 'InvalidPlaybackPath' && /does not match/.test(err.message),
      );
    }
  });

  it('the options a suffix form carries reach child URLs as with the plain form', () => {
    const r = parsePlaybackPath('clip.ism/manifest(filter=a;b,vbegin=PT1S).mpd');
    assert.equal(r.kind, 'manifest');
    assert.deepEqual(r.options.extraOptions, ['filter=a;b', 'vbegin=PT1S']);
  });

  it('I-frame playlists and keyframe fragments are routed with their flag', () => {
    const playlist = parsePlaybackPath('clip.ism/QualityLevels(800000)/Manifest(video,format=m3u8-cmaf,type=keyframes)');
    assert.ok(playlist.kind === 'media-playlist' && playlist.request.keyframes === true);
    const fragment = parsePlaybackPath('clip.ism/QualityLevels(800000)/Fragments(video=0,format=m3u8-aapl,type=keyframes).ts');
    assert.ok(fragment.kind === 'fragment' && fragment.request.keyframes === true && fragment.request.start === 0);
  });
});

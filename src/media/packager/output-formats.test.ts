import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputFormat, outputFormats, type ManifestFormat } from './index.js';

describe('output format table', () => {
  it('has one row per format, naming itself', () => {
    const formats: ManifestFormat[] = ['m3u8-cmaf', 'm3u8-aapl', 'mpd-time-cmaf', 'mpd-time-csf', 'smooth'];
    assert.deepEqual(Object.keys(outputFormats).sort(), [...formats].sort());
    for (const f of formats) assert.equal(outputFormat(f).format, f);
  });

  it('pairs each format with its protocol, segment container and manifest type', () => {
    const rows = Object.values(outputFormats).map((r) => [r.format, r.protocol, r.segments.container, r.segments.variant, r.manifests.contentType]);
    assert.deepEqual(rows, [
      ['m3u8-cmaf', 'hls', 'fmp4', 'cmaf', 'application/vnd.apple.mpegurl'],
      ['m3u8-aapl', 'hls', 'ts', 'ts', 'application/vnd.apple.mpegurl'],
      ['mpd-time-cmaf', 'dash', 'fmp4', 'cmaf', 'application/dash+xml'],
      ['mpd-time-csf', 'dash', 'fmp4', 'csf', 'application/dash+xml'],
      ['smooth', 'smoothStreaming', 'fmp4', 'cmaf', 'text/xml; charset=utf-8'],
    ]);
  });

  it('maps side-loaded WebVTT onto the HLS timeline of each segment format', () => {
    assert.equal(outputFormat('m3u8-cmaf').subtitles('WEBVTT\n\ncue'), 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\ncue');
    assert.equal(outputFormat('m3u8-aapl').subtitles('cue'), 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\ncue');
    assert.equal(outputFormat('mpd-time-cmaf').subtitles('WEBVTT\n\ncue'), 'WEBVTT\n\ncue');
  });
});

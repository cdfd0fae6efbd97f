import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputFormat, outputFormats, type ManifestFormat } from './index.js';
import type { Presentation } from './model/presentation.js';
import { webVttFromSec } from './mux/text/webvtt.js';

/** Only what the subtitle rows read: the tracks' first segment starts (a clip from `startSec`, 90 kHz video). */
const presentationFrom = (startSec: number, live = false) =>
  ({
    durationSec: 4,
    targetSegmentSec: 2,
    tracks: [{ kind: 'video', track: { timescale: 90000 }, segments: { length: 2, startTicks: [startSec * 90000, (startSec + 2) * 90000] } }],
    ...(live ? { live: {} } : {}),
  }) as unknown as Presentation;

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
    const whole = presentationFrom(0);
    assert.equal(outputFormat('m3u8-cmaf').subtitles('WEBVTT\n\ncue', whole), 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\ncue');
    assert.equal(outputFormat('m3u8-aapl').subtitles('cue', whole), 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\ncue');
    assert.equal(outputFormat('mpd-time-cmaf').subtitles('WEBVTT\n\ncue', whole), 'WEBVTT\n\ncue');
  });

  const vtt =
    'WEBVTT\n\nNOTE kept\n\n1\n00:00:00.000 --> 00:00:01.500\nOne\n\n2\n00:01.800 --> 00:00:03.500 align:start\nTwo <00:00:02.500>later\n\n3\n00:00:04.000 --> 00:00:05.500\nThree\n';
  it('moves DASH cues to the Period of a clip, which starts at the clip start; HLS keeps media times', () => {
    const clip = presentationFrom(2);
    assert.equal(
      outputFormat('mpd-time-cmaf').subtitles(vtt, clip),
      'WEBVTT\n\nNOTE kept\n\n2\n00:00:00.000 --> 00:00:01.500 align:start\nTwo <00:00:00.500>later\n\n3\n00:00:02.000 --> 00:00:03.500\nThree\n',
    );
    assert.equal(outputFormat('mpd-time-csf').subtitles(vtt, clip), outputFormat('mpd-time-cmaf').subtitles(vtt, clip));
    // HLS places cues by media time (X-TIMESTAMP-MAP), Smooth by absolute times, live DASH Periods start at 0.
    assert.match(outputFormat('m3u8-cmaf').subtitles(vtt, clip), /00:00:04\.000 --> 00:00:05\.500/);
    assert.equal(outputFormat('smooth').subtitles(vtt, clip), vtt);
    assert.equal(outputFormat('mpd-time-cmaf').subtitles(vtt, presentationFrom(2, true)), vtt);
    assert.equal(webVttFromSec(vtt, 0), vtt);
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { LiveTimeline, Presentation } from '../../model/presentation.js';
import { applyFilters } from '../../filters/apply-filters.js';
import { dashMpd } from './dash.js';
import { hlsMasterPlaylist, hlsMediaPlaylist } from './hls.js';
import { hlsIFramePlaylist } from './hls-iframes.js';
import { smoothManifest } from './smooth.js';
import type { ManifestContext } from './manifest-context.js';
import { makeMp4 } from '../../../../../test/fixtures/media.js';
import { readSampleEntries, twoRenditionPresentation } from '../../../../../test/fixtures/hand-built-presentations.js';

// 61 s recorded so far, 2 s segments (12800 ticks video, ~96000 audio); the DVR window holds segments [10, 20).
const availabilityStartMs = Date.UTC(2026, 0, 1, 12, 0, 0);
const publishedMs = availabilityStartMs + 61_000;

/** The hand-built presentation as a live origin hands it over: each track sliced to [from, to), `live` set. */
function livePresentation(from: number, to: number, live: Partial<LiveTimeline> = {}, base: Presentation = twoRenditionPresentation()): Presentation {
  return {
    ...base,
    tracks: base.tracks.map((t) => ({ ...t, segments: t.segments.slice(from, to) })),
    live: { availabilityStartMs, windowSec: 20, publishedMs, isEnded: false, ...live },
  };
}

const cmaf: ManifestContext = { format: 'm3u8-cmaf', extraOptions: [] };
const ts: ManifestContext = { format: 'm3u8-aapl', extraOptions: [] };
const lines = (text: string) => text.trimEnd().split('\n');
const tagValue = (text: string, tag: string) =>
  lines(text)
    .find((l) => l.startsWith(`${tag}:`))
    ?.slice(tag.length + 1);

describe('live HLS media playlists', () => {
  const p = livePresentation(10, 20);
  const video = p.tracks[0];
  const audio = p.tracks[2];

  it('lists the window from its first index, with the first segment wall-clock time and no end or type (CMAF)', () => {
    const text = hlsMediaPlaylist(p, video, cmaf);
    const l = lines(text);
    assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '10');
    assert.equal(tagValue(text, '#EXT-X-TARGETDURATION'), '2');
    assert.ok(!text.includes('#EXT-X-ENDLIST'));
    assert.ok(!text.includes('#EXT-X-PLAYLIST-TYPE'));
    assert.ok(l.includes('#EXT-X-MAP:URI="Fragments(video=i,format=m3u8-cmaf).mp4"'));
    // Segment 10 starts at 10 × 25600 ticks / 12800 = 20 s after tick 0; the tag precedes the first segment.
    const pdt = l.indexOf('#EXT-X-PROGRAM-DATE-TIME:2026-01-01T12:00:20.000Z');
    assert.ok(pdt > 0, text);
    assert.match(l[pdt + 1], /^#EXTINF:2\.000,$/);
    assert.equal(l[pdt + 2], 'Fragments(video=256000,format=m3u8-cmaf).m4s');
    assert.equal(l.filter((x) => x.startsWith('#EXTINF:')).length, 10);
    assert.equal(l.filter((x) => x.startsWith('#EXT-X-PROGRAM-DATE-TIME')).length, 1);
    assert.equal(l.at(-1), 'Fragments(video=486400,format=m3u8-cmaf).m4s');
  });

  it('writes the same for MPEG-TS, with .ts segments and no EXT-X-MAP', () => {
    const text = hlsMediaPlaylist(p, audio, ts);
    assert.equal(tagValue(text, '#EXT-X-VERSION'), '4');
    assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '10');
    assert.ok(!text.includes('#EXT-X-MAP'));
    assert.ok(!text.includes('#EXT-X-ENDLIST') && !text.includes('#EXT-X-PLAYLIST-TYPE'));
    const start = audio.segments.startTicks[0];
    assert.equal(tagValue(text, '#EXT-X-PROGRAM-DATE-TIME'), new Date(availabilityStartMs + Math.round((start * 1000) / 48000)).toISOString());
    assert.ok(lines(text).includes(`Fragments(aac_eng_2_128=${start},format=m3u8-aapl).ts`));
  });

  it('moves the media sequence and the date as the window slides, keeping the target duration', () => {
    const later = livePresentation(11, 21);
    const text = hlsMediaPlaylist(later, later.tracks[0], cmaf);
    assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '11');
    assert.equal(tagValue(text, '#EXT-X-PROGRAM-DATE-TIME'), '2026-01-01T12:00:22.000Z');
    assert.equal(tagValue(text, '#EXT-X-TARGETDURATION'), '2');
    // A window holding only the short last segment (1 s) keeps the target of the cutting target, rounded up.
    const tail = livePresentation(30, 31);
    assert.equal(tagValue(hlsMediaPlaylist(tail, tail.tracks[0], cmaf), '#EXT-X-TARGETDURATION'), '2');
    const odd = livePresentation(30, 31, {}, { ...twoRenditionPresentation(), targetSegmentSec: 2.5 });
    assert.equal(tagValue(hlsMediaPlaylist(odd, odd.tracks[0], cmaf), '#EXT-X-TARGETDURATION'), '3');
  });

  it('closes the playlist once ingest has ended, still without a playlist type', () => {
    const ended = livePresentation(21, 31, { isEnded: true });
    const text = hlsMediaPlaylist(ended, ended.tracks[0], cmaf);
    assert.equal(lines(text).at(-1), '#EXT-X-ENDLIST');
    assert.ok(!text.includes('#EXT-X-PLAYLIST-TYPE'));
    assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '21');
  });

  it('writes an empty window as a playlist players reload, and offers no I-frame playlists', () => {
    const empty = livePresentation(0, 0);
    const text = hlsMediaPlaylist(empty, empty.tracks[0], cmaf);
    assert.ok(!text.includes('#EXTINF') && !text.includes('#EXT-X-PROGRAM-DATE-TIME') && !text.includes('#EXT-X-ENDLIST'));
    assert.equal(hlsIFramePlaylist(p, video, cmaf), undefined);
    assert.ok(!hlsMasterPlaylist(p, cmaf).includes('EXT-X-I-FRAME'));
    // The multivariant playlist names the same media playlists as for VOD.
    assert.ok(hlsMasterPlaylist(p, cmaf).includes('QualityLevels(3400000)/Manifest(video,format=m3u8-cmaf)'));
  });

  it('slices a live window further with a filter, keeping indices and dates', () => {
    const filtered = applyFilters(p, [{ name: 'last', presentationTimeRange: { startTimestamp: 30, endTimestamp: 40, timescale: 1 } }]);
    assert.ok(filtered.live);
    const text = hlsMediaPlaylist(filtered, filtered.tracks[0], cmaf);
    assert.equal(tagValue(text, '#EXT-X-MEDIA-SEQUENCE'), '15');
    assert.equal(tagValue(text, '#EXT-X-PROGRAM-DATE-TIME'), '2026-01-01T12:00:30.000Z');
    assert.ok(!text.includes('#EXT-X-ENDLIST'));
  });

  it('tags the segments after a discontinuity and counts those that left the window in the discontinuity sequence', () => {
    // Discontinuities before segments 12 and 15 (an encoder reconnected twice); the window slides over them.
    const discontinuities = [12, 15];
    const uri = (i: number) => `Fragments(video=${i * 25600},format=m3u8-cmaf).m4s`;
    /** What precedes each listed segment's EXTINF, and the discontinuity sequence. */
    const shape = (from: number, format: ManifestContext = cmaf) => {
      const w = livePresentation(from, from + 10, { discontinuities });
      const text = hlsMediaPlaylist(w, w.tracks[0], format);
      const l = lines(text);
      const tagged = l.flatMap((x, i) => (x === '#EXT-X-DISCONTINUITY' ? [l[i + 2]] : []));
      return { sequence: tagValue(text, '#EXT-X-DISCONTINUITY-SEQUENCE'), tagged, text, l };
    };
    const at10 = shape(10);
    assert.equal(at10.sequence, undefined, 'none left the window: no sequence tag (0)');
    assert.deepEqual(at10.tagged, [uri(12), uri(15)]);
    assert.equal(at10.l.indexOf('#EXT-X-DISCONTINUITY-SEQUENCE'), -1);
    // The tag sits right before the segment's EXTINF; the sequence follows the media sequence.
    assert.deepEqual(at10.l.slice(at10.l.indexOf(uri(11)) + 1, at10.l.indexOf(uri(12)) + 1), ['#EXT-X-DISCONTINUITY', '#EXTINF:2.000,', uri(12)]);
    // Segment 12 first in the window: its tag is gone and counted (RFC 8216 §6.2.1), so its number stays 1.
    assert.deepEqual([shape(12).sequence, shape(12).tagged], ['1', [uri(15)]]);
    assert.ok(shape(12).l.indexOf('#EXT-X-DISCONTINUITY-SEQUENCE:1') === shape(12).l.indexOf('#EXT-X-MEDIA-SEQUENCE:12') + 1);
    assert.deepEqual([shape(13).sequence, shape(13).tagged], ['1', [uri(15)]]);
    assert.deepEqual([shape(16).sequence, shape(16).tagged], ['2', []]);
    // MPEG-TS playlists the same.
    const tsShape = shape(11, ts);
    assert.deepEqual(tsShape.tagged, [`Fragments(video=${12 * 25600},format=m3u8-aapl).ts`, `Fragments(video=${15 * 25600},format=m3u8-aapl).ts`]);
    // A static snapshot (VOD, archives) carries none.
    const vod = { ...livePresentation(10, 20, { discontinuities }), live: undefined };
    assert.ok(!hlsMediaPlaylist(vod, vod.tracks[0], cmaf).includes('DISCONTINUITY'));
  });
});

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S', 'StreamIndex', 'QualityLevel', 'c'].includes(name),
});
const parse = (xml: string, root: string): Node => {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  return (parser.parse(xml) as Node)[root] as Node;
};

describe('live DASH MPD', () => {
  const p = livePresentation(10, 20);
  const ctx: ManifestContext = { format: 'mpd-time-cmaf', extraOptions: [], utcTimingUrl: 'https://live.example/time' };

  it('is dynamic, with availability start, publish time, update period, DVR depth, delay and UTCTiming', () => {
    const xml = dashMpd(p, ctx);
    const mpd = parse(xml, 'MPD');
    assert.equal(mpd.type, 'dynamic');
    assert.equal(mpd.availabilityStartTime, '2026-01-01T12:00:00.000Z');
    assert.equal(mpd.publishTime, '2026-01-01T12:01:01.000Z');
    assert.equal(mpd.minimumUpdatePeriod, 'PT2.000S');
    assert.equal(mpd.timeShiftBufferDepth, 'PT20.000S');
    assert.equal(mpd.suggestedPresentationDelay, 'PT6.000S');
    assert.equal(mpd.mediaPresentationDuration, undefined);
    assert.deepEqual(mpd.UTCTiming, { schemeIdUri: 'urn:mpeg:dash:utc:http-iso:2014', value: 'https://live.example/time' });
    // UTCTiming is the MPD's last child (schema order).
    assert.ok(xml.indexOf('<UTCTiming') > xml.indexOf('</Period>'));
    const period = (mpd.Period as Node[])[0];
    assert.equal(period.start, 'PT0.000S');
    const video = ((period.AdaptationSet as Node[])[0].Representation as Node[])[0];
    const template = video.SegmentTemplate as Node;
    // Tick 0 is availabilityStartTime: no offset, and S@t keeps the recording's ticks.
    assert.equal(template.presentationTimeOffset, undefined);
    const s = (template.SegmentTimeline as Node).S as Node[];
    assert.deepEqual(s, [{ t: '256000', d: '25600', r: '9' }]);
  });

  it('keeps recording ticks for audio and, without a time URL, writes no UTCTiming', () => {
    const mpd = parse(dashMpd(p, { format: 'mpd-time-csf', extraOptions: [] }), 'MPD');
    assert.equal(mpd.UTCTiming, undefined);
    const audio = (((mpd.Period as Node[])[0].AdaptationSet as Node[])[1].Representation as Node[])[0];
    const s = ((audio.SegmentTemplate as Node).SegmentTimeline as Node).S as Node[];
    assert.equal(s[0].t, String(p.tracks[2].segments.startTicks[0]));
  });

  it('turns static with the duration once ingest has ended, on the same timeline', () => {
    const ended = livePresentation(21, 31, { isEnded: true });
    const mpd = parse(dashMpd(ended, ctx), 'MPD');
    assert.equal(mpd.type, 'static');
    assert.equal(mpd.availabilityStartTime, '2026-01-01T12:00:00.000Z');
    assert.equal(mpd.minimumUpdatePeriod, undefined);
    assert.equal(mpd.timeShiftBufferDepth, undefined);
    const template = (((mpd.Period as Node[])[0].AdaptationSet as Node[])[0].Representation as Node[])[0].SegmentTemplate as Node;
    assert.equal(template.presentationTimeOffset, undefined);
    assert.equal(((template.SegmentTimeline as Node).S as Node[])[0].t, '537600');
    // The end of the last segment since tick 0: audio runs to 61 s rounded up to whole AAC frames.
    const audio = ended.tracks[2].segments;
    const end = (audio.startTicks[audio.length - 1] + audio.durationTicks[audio.length - 1]) / 48000;
    assert.equal(mpd.mediaPresentationDuration, `PT1M${(end - 60).toFixed(3)}S`);
  });

  it('leaves VOD MPDs static', () => {
    const mpd = parse(dashMpd(twoRenditionPresentation(), ctx), 'MPD');
    assert.equal(mpd.type, 'static');
    assert.equal(mpd.UTCTiming, undefined);
  });
});

describe('live Smooth manifest', () => {
  let entries: { video?: Uint8Array; audio?: Uint8Array };
  before(() => {
    entries = readSampleEntries(makeMp4());
  });

  it('says IsLive with look-ahead and the DVR window in 100 ns, Duration 0, chunks from the window', () => {
    const p = livePresentation(10, 20, {}, twoRenditionPresentation(entries));
    const root = parse(smoothManifest(p, { format: 'smooth', extraOptions: [] }), 'SmoothStreamingMedia');
    assert.equal(root.IsLive, 'TRUE');
    assert.equal(root.LookAheadFragmentCount, '2');
    assert.equal(root.DVRWindowLength, '200000000');
    assert.equal(root.Duration, '0');
    const video = (root.StreamIndex as Node[])[0];
    assert.equal(video.Chunks, '10');
    assert.deepEqual(video.c, [{ t: '256000', d: '25600', r: '10' }]);
  });

  it('is written as on-demand once ingest has ended', () => {
    const p = livePresentation(21, 31, { isEnded: true }, twoRenditionPresentation(entries));
    const root = parse(smoothManifest(p, { format: 'smooth', extraOptions: [] }), 'SmoothStreamingMedia');
    assert.equal(root.IsLive, undefined);
    assert.equal(root.Duration, '610000000');
  });
});

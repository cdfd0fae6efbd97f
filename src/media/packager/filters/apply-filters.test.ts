import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FilterDefinition, FilterTrackCondition } from '../../../shared/filter-definitions.js';
import type { Presentation } from '../model/presentation.js';
import { applyFilters, FilterError, firstQualityTrack } from './apply-filters.js';
import { makeTrack, twoRenditionPresentation } from '../../../../test/fixtures/hand-built-presentations.js';

/**
 * 61 s: video 3400000 and 1200000 (avc1, 31 segments of 2 s, the last 1 s), AAC English 128000 and French 96000,
 * E-AC-3 English 384000, and side-loaded English and German WebVTT.
 */
function presentation(): Presentation {
  const p = twoRenditionPresentation();
  const aac = p.tracks[2];
  const ec3 = makeTrack(
    {
      kind: 'audio',
      name: 'ec3_eng_6_384',
      bitrateBps: 384000,
      language: 'eng',
      timescale: 48000,
      fourcc: 'ec-3',
      codecs: 'ec-3',
      audio: { channels: 6, sampleRate: 48000 },
      durations: Array.from(aac.segments.durationTicks),
    },
    3,
  );
  return {
    ...p,
    tracks: [...p.tracks, ec3],
    textTracks: [
      { name: 'subs_en', language: 'eng', sourceFile: 'subs_en.vtt' },
      { name: 'subs_de', language: 'ger', sourceFile: 'subs_de.vtt' },
    ],
  };
}

const when = (property: FilterTrackCondition['property'], value: string, operation: FilterTrackCondition['operation'] = 'Equal'): FilterTrackCondition => ({
  property,
  operation,
  value,
});

function tracksFilter(name: string, ...selections: FilterTrackCondition[][]): FilterDefinition {
  return { name, tracks: selections.map((trackSelections) => ({ trackSelections })) };
}

/** `name@bitrate` of every kept track, and the kept text tracks' names. */
function kept(p: Presentation): string[] {
  return [...p.tracks.map((t) => `${t.name}@${t.bitrateBps}`), ...(p.textTracks ?? []).map((t) => t.name)];
}

function rangeFilter(name: string, range: FilterDefinition['presentationTimeRange']): FilterDefinition {
  return { name, presentationTimeRange: range };
}

const sec = (s: number) => s * 10_000_000;

function expectFilterError(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FilterError, `a FilterError, got ${String(e)}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, code);
    return true;
  });
}

describe('applyFilters: track selection', () => {
  it('leaves a presentation without filters as it was', () => {
    const p = presentation();
    const out = applyFilters(p, []);
    assert.deepEqual(kept(out), kept(p));
    assert.equal(out.durationSec, 61);
    assert.equal(out.startSec, 0);
    assert.deepEqual(out.segmentRange, { first: 0, end: 31 });
    assert.equal(out.tracks[0].segments, p.tracks[0].segments, 'the same segment list, nothing copied');
  });

  it('selects by Type (video, audio, text), case-insensitively', () => {
    const p = presentation();
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Type', 'video')], [when('Type', 'Audio')])])), [
      'video@3400000',
      'video@1200000',
      'aac_eng_2_128@128000',
      'aac_fra_2_96@96000',
      'ec3_eng_6_384@384000',
    ]);
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Video')], [when('Type', 'TEXT')])])), [
      'video@3400000',
      'video@1200000',
      'subs_en',
      'subs_de',
    ]);
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Text', 'NotEqual')])])).length, 5);
  });

  it('selects by Name', () => {
    const out = applyFilters(presentation(), [tracksFilter('f', [when('Type', 'Video')], [when('Name', 'AAC_FRA_2_96')], [when('Name', 'subs_de')])]);
    assert.deepEqual(kept(out), ['video@3400000', 'video@1200000', 'aac_fra_2_96@96000', 'subs_de']);
  });

  it('selects by Language in ISO 639-2 (T and B) and BCP 47 forms', () => {
    const p = presentation();
    const english = ['aac_eng_2_128@128000', 'ec3_eng_6_384@384000', 'subs_en'];
    for (const value of ['en', 'eng', 'EN-us', 'En']) {
      assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Language', value)])])), english, value);
    }
    for (const value of ['de', 'deu', 'ger', 'de-DE']) {
      assert.deepEqual(
        kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Video')], [when('Language', value)])])),
        ['video@3400000', 'video@1200000', 'subs_de'],
        value,
      );
    }
    // Video tracks are `und`; NotEqual keeps them.
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Language', 'fr', 'NotEqual'), when('Type', 'Text', 'NotEqual')])])), [
      'video@3400000',
      'video@1200000',
      'aac_eng_2_128@128000',
      'ec3_eng_6_384@384000',
    ]);
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Language', 'und')])])), ['video@3400000', 'video@1200000']);
  });

  it('selects by FourCC from the sample entry or the codecs string', () => {
    const p = presentation();
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('FourCC', 'AVC1')], [when('FourCC', 'ec-3')])])), [
      'video@3400000',
      'video@1200000',
      'ec3_eng_6_384@384000',
    ]);
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('FourCC', 'mp4a', 'NotEqual'), when('Type', 'Text', 'NotEqual')])])), [
      'video@3400000',
      'video@1200000',
      'ec3_eng_6_384@384000',
    ]);
  });

  it('selects by Bitrate, a value or an inclusive range', () => {
    const p = presentation();
    assert.deepEqual(
      kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Video'), when('Bitrate', '0-2000000')], [when('Type', 'Audio'), when('Bitrate', '128000')])])),
      ['video@1200000', 'aac_eng_2_128@128000'],
    );
    assert.deepEqual(kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Audio'), when('Bitrate', '96000-128000')])])), [
      'aac_eng_2_128@128000',
      'aac_fra_2_96@96000',
    ]);
    assert.deepEqual(
      kept(applyFilters(p, [tracksFilter('f', [when('Type', 'Video'), when('Bitrate', '3400000', 'NotEqual')], [when('Type', 'Audio')])])).slice(0, 2),
      ['video@1200000', 'aac_eng_2_128@128000'],
    );
  });

  it('applies several filters in turn (intersection), each one ORing its selections', () => {
    const p = presentation();
    const videoAndEnglish = tracksFilter('a', [when('Type', 'Video')], [when('Language', 'en')]);
    const noHd = tracksFilter('b', [when('Bitrate', '0-2000000')]);
    const noEc3 = tracksFilter('c', [when('FourCC', 'ec-3', 'NotEqual')]);
    assert.deepEqual(kept(applyFilters(p, [videoAndEnglish, noHd, noEc3])), ['video@1200000', 'aac_eng_2_128@128000', 'subs_en']);
  });

  it('refuses a filter that leaves no audio or video track, and values it cannot apply', () => {
    const p = presentation();
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Type', 'Video'), when('Type', 'Audio')])]), 'FilterSelectsNoTracks');
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Type', 'Text')])]), 'FilterSelectsNoTracks');
    expectFilterError(() => applyFilters(p, [tracksFilter('a', [when('Type', 'Video')]), tracksFilter('b', [when('Type', 'Audio')])]), 'FilterSelectsNoTracks');
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Bitrate', 'fast')])]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Bitrate', '500-100')])]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Type', 'Data')])]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [tracksFilter('f', [when('Unknown', 'x')])]), 'InvalidFilterDefinition');
    assert.throws(
      () => applyFilters(p, [tracksFilter('only-text', [when('Type', 'Text')])]),
      (e: unknown) => e instanceof FilterError && e.detail.includes("'only-text'"),
    );
  });

  it("keeps what else the caller's presentation carries, and lazy track properties lazy", () => {
    const p = { ...presentation(), etag: '"abc"' };
    let measured = 0;
    Object.defineProperty(p.tracks[0], 'peakBitrateBps', {
      enumerable: true,
      get: () => {
        measured++;
        return 4_000_000;
      },
    });
    const out = applyFilters(p, [rangeFilter('r', { startTimestamp: sec(10), endTimestamp: sec(20) })]);
    assert.equal(out.etag, '"abc"');
    assert.equal(measured, 0, 'not measured by the filter');
    assert.equal(out.tracks[0].peakBitrateBps, 4_000_000);
    assert.equal(out.tracks[0].segments.length, 5);
    assert.equal(p.tracks[0].segments.length, 31);
  });

  it('does not modify its input', () => {
    const p = presentation();
    const before = kept(p);
    applyFilters(p, [tracksFilter('f', [when('Type', 'Video')]), rangeFilter('r', { startTimestamp: sec(10), endTimestamp: sec(20) })]);
    assert.deepEqual(kept(p), before);
    assert.equal(p.tracks[0].segments.length, 31);
    assert.equal(p.durationSec, 61);
  });
});

describe('applyFilters: presentation time range', () => {
  it('keeps every segment overlapping [start, end), with original start times and indices', () => {
    const p = presentation();
    const out = applyFilters(p, [rangeFilter('r', { startTimestamp: sec(11), endTimestamp: sec(21) })]);
    const video = out.tracks[0].segments;
    // Segments of 2 s: [10,12) … [20,22) overlap [11, 21).
    assert.deepEqual(out.segmentRange, { first: 5, end: 11 });
    assert.equal(video.length, 6);
    assert.equal(video.firstIndex, 5);
    assert.deepEqual(video.at(0), { ...p.tracks[0].segments.at(5) });
    assert.equal(video.at(5).index, 10);
    assert.equal(video.startTicks[0], 10 * 12800);
    assert.equal(video.startingAt(20 * 12800)?.index, 10);
    assert.equal(video.startingAt(22 * 12800), undefined);
    assert.equal(video.startTicks.buffer, p.tracks[0].segments.startTicks.buffer, 'a view, not a copy');
    for (const t of out.tracks) assert.equal(t.segments.firstIndex, 5);
    assert.equal(out.startSec, 10);
    assert.equal(out.durationSec, 12, 'from the first kept start (video, 10 s) to the last kept end (video, 22 s)');
    assert.deepEqual(out.requestedRange, { startSec: 11, endSec: 21 });
  });

  it('is exact on segment boundaries, in any timescale', () => {
    const p = presentation();
    const exact = applyFilters(p, [rangeFilter('r', { startTimestamp: sec(10), endTimestamp: sec(20) })]);
    assert.deepEqual(exact.segmentRange, { first: 5, end: 10 });
    assert.equal(exact.tracks[0].segments.length, 5);
    const ms = applyFilters(p, [rangeFilter('r', { startTimestamp: 10_000, endTimestamp: 20_001, timescale: 1000 })]);
    assert.deepEqual(ms.segmentRange, { first: 5, end: 11 });
    const ticks = applyFilters(p, [rangeFilter('r', { startTimestamp: 12 * 12800 - 1, timescale: 12800 })]);
    assert.deepEqual(ticks.segmentRange, { first: 5, end: 31 });
  });

  it('defaults open ends to the presentation, and intersects the ranges of several filters', () => {
    const p = presentation();
    assert.deepEqual(applyFilters(p, [rangeFilter('r', { startTimestamp: sec(58) })]).segmentRange, { first: 29, end: 31 });
    assert.deepEqual(applyFilters(p, [rangeFilter('r', { endTimestamp: sec(4) })]).segmentRange, { first: 0, end: 2 });
    const both = applyFilters(p, [
      rangeFilter('a', { startTimestamp: sec(10), endTimestamp: sec(40) }),
      tracksFilter('t', [when('Type', 'Video')]),
      rangeFilter('b', { startTimestamp: 200, endTimestamp: 300, timescale: 10 }),
    ]);
    assert.deepEqual(both.segmentRange, { first: 10, end: 15 });
    assert.deepEqual(kept(both), ['video@3400000', 'video@1200000']);
    // An end past the asset changes nothing, forced or not.
    for (const forceEndTimestamp of [false, true]) {
      const out = applyFilters(p, [rangeFilter('r', { endTimestamp: sec(100), forceEndTimestamp })]);
      assert.deepEqual(out.segmentRange, { first: 0, end: 31 });
      assert.equal(out.durationSec, 61);
    }
  });

  it('treats liveBackoffDuration and presentationWindowDuration of a VOD asset as a live archive ending at its end', () => {
    const p = presentation();
    // Backoff 10 s: the edge is 51 s, so [50, 52) is the last segment kept.
    assert.deepEqual(applyFilters(p, [rangeFilter('b', { liveBackoffDuration: sec(10) })]).segmentRange, { first: 0, end: 26 });
    // Window 10 s: [51, 61).
    assert.deepEqual(applyFilters(p, [rangeFilter('w', { presentationWindowDuration: sec(10) })]).segmentRange, { first: 25, end: 31 });
    // Both: the window ends at the backed-off edge, [41, 51).
    assert.deepEqual(applyFilters(p, [rangeFilter('wb', { presentationWindowDuration: sec(10), liveBackoffDuration: sec(10) })]).segmentRange, {
      first: 20,
      end: 26,
    });
    // With an end timestamp before the asset's end, the edge is the end timestamp: [20, 30) minus 4 s.
    assert.deepEqual(
      applyFilters(p, [rangeFilter('e', { endTimestamp: sec(30), liveBackoffDuration: sec(4), presentationWindowDuration: sec(6) })]).segmentRange,
      {
        first: 10,
        end: 13,
      },
    );
    // The window does not reach before startTimestamp.
    assert.deepEqual(applyFilters(p, [rangeFilter('s', { startTimestamp: sec(56), presentationWindowDuration: sec(20) })]).segmentRange, {
      first: 28,
      end: 31,
    });
  });

  it('refuses a range that holds no segment and values it cannot apply', () => {
    const p = presentation();
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { startTimestamp: sec(61) })]), 'FilterSelectsNoSegments');
    expectFilterError(
      () => applyFilters(p, [rangeFilter('a', { startTimestamp: sec(40) }), rangeFilter('b', { endTimestamp: sec(30) })]),
      'FilterSelectsNoSegments',
    );
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { liveBackoffDuration: sec(70) })]), 'FilterSelectsNoSegments');
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { startTimestamp: sec(20), endTimestamp: sec(10) })]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { startTimestamp: -1 })]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { startTimestamp: 1.5 })]), 'InvalidFilterDefinition');
    expectFilterError(() => applyFilters(p, [rangeFilter('r', { startTimestamp: 0, timescale: 0 })]), 'InvalidFilterDefinition');
  });

  it('measures time on a timeline that does not start at 0', () => {
    const p = presentation();
    const shifted: Presentation = {
      ...p,
      tracks: p.tracks.map((t) =>
        makeTrack({
          kind: t.kind,
          name: t.name,
          bitrateBps: t.bitrateBps,
          timescale: t.track.timescale,
          fourcc: t.track.fourcc,
          codecs: t.track.codecs,
          durations: Array.from(t.segments.durationTicks),
          firstStartTicks: 100 * t.track.timescale,
        }),
      ),
    };
    const out = applyFilters(shifted, [rangeFilter('r', { startTimestamp: sec(110), endTimestamp: sec(120) })]);
    assert.deepEqual(out.segmentRange, { first: 5, end: 10 });
    assert.equal(out.startSec, 110);
    assert.deepEqual(applyFilters(shifted, [rangeFilter('w', { presentationWindowDuration: sec(10) })]).segmentRange, { first: 25, end: 31 });
  });
});

describe('applyFilters: firstQuality', () => {
  it('picks the closest video bitrate at or below, else the closest above, and lists it first', () => {
    const p = presentation();
    const at = (bitrate: number) => applyFilters(p, [{ name: 'q', firstQuality: { bitrate } }]);
    assert.equal(at(3_000_000).firstQualityBitrateBps, 1200000);
    assert.equal(at(3_400_000).firstQualityBitrateBps, 3400000);
    assert.equal(at(9_000_000).firstQualityBitrateBps, 3400000);
    assert.equal(at(100).firstQualityBitrateBps, 1200000);
    assert.deepEqual(kept(at(1_500_000)).slice(0, 3), ['video@1200000', 'video@3400000', 'aac_eng_2_128@128000']);
    assert.equal(at(1_500_000).tracks.length, p.tracks.length);
    assert.equal(firstQualityTrack(p.tracks.slice(2), 1_000_000), undefined, 'no video track, no first quality');
  });

  it('chooses among the tracks the filters keep; the last filter with firstQuality wins', () => {
    const p = presentation();
    const out = applyFilters(p, [
      { name: 'q1', firstQuality: { bitrate: 100 } },
      tracksFilter('t', [when('Bitrate', '1200000', 'NotEqual')]),
      { name: 'q2', firstQuality: { bitrate: 2_000_000 } },
    ]);
    assert.equal(out.firstQualityBitrateBps, 3400000);
    const audioOnly = applyFilters(p, [tracksFilter('t', [when('Type', 'Audio')]), { name: 'q', firstQuality: { bitrate: 1 } }]);
    assert.equal(audioOnly.firstQualityBitrateBps, undefined);
  });
});

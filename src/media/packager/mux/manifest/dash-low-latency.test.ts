import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Presentation } from '../../model/presentation.js';
import { lowLatencyRecording, partsOf, second } from './test-presentations.js';
import { dashMpd } from './dash.js';
import type { ManifestContext } from './manifest-context.js';

// The shared LowLatency recording (segments 5–7 listed), with the parts of segments 6 and 7 and `openParts` parts of
// the open segment 8; `lowLatency: false` is the same recording of a Default event.
function presentation(options: { openParts?: number; isEnded?: boolean; lowLatency?: boolean } = {}): Presentation {
  const lowLatency = options.lowLatency ?? true;
  const openParts = options.openParts ?? 1;
  return lowLatencyRecording({
    ...(lowLatency ? { parts: [...partsOf(6), ...partsOf(7), ...(openParts > 0 ? partsOf(8, openParts) : [])] } : { partTargetSec: 0 }),
    ...(options.isEnded !== undefined ? { isEnded: options.isEnded } : {}),
  }).p;
}

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S'].includes(name),
});
function parse(xml: string): Node {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  return (parser.parse(xml) as Node).MPD as Node;
}
const templateOf = (mpd: Node) => (((mpd.Period as Node[])[0].AdaptationSet as Node[])[0].Representation as Node[])[0].SegmentTemplate as Node;
const cmaf: ManifestContext = { format: 'mpd-time-cmaf', extraOptions: [], utcTimingUrl: 'https://live.example/time' };

describe('low-latency DASH MPD (LowLatency live, chunked CMAF)', () => {
  it('signals chunked availability, the open segment, a latency target and the low-latency profile', () => {
    const xml = dashMpd(presentation(), cmaf);
    const mpd = parse(xml);
    assert.equal(mpd.type, 'dynamic');
    assert.ok(String(mpd.profiles).split(',').includes('http://www.dashif.org/guidelines/low-latency-live-v5'));
    assert.ok(String(mpd.profiles).split(',').includes('urn:mpeg:dash:profile:cmaf:2019'));
    // Segment target 1 s − part target 0.5 s: a segment is available once its first part is.
    const template = templateOf(mpd);
    assert.equal(template.availabilityTimeOffset, '0.5');
    assert.equal(template.availabilityTimeComplete, 'false');
    // The closed segments 5–7, then the open segment 8 at its known start with the target duration.
    assert.deepEqual((template.SegmentTimeline as Node).S, [
      { t: String(5 * second), d: String(second), r: '2' },
      { t: String(8 * second), d: String(second) },
    ]);
    assert.deepEqual(mpd.ServiceDescription, {
      id: '0',
      Latency: { target: '1500', min: '1000', max: '3000' },
      PlaybackRate: { min: '0.96', max: '1.04' },
    });
    assert.equal(mpd.suggestedPresentationDelay, 'PT1.500S');
    // Reloaded once per part: the next segment's start is only known from a newer MPD.
    assert.equal(mpd.minimumUpdatePeriod, 'PT0.500S');
    // Schema order: ServiceDescription before the Period, UTCTiming still last.
    assert.ok(xml.indexOf('<ServiceDescription') < xml.indexOf('<Period'));
    assert.ok(xml.indexOf('<UTCTiming') > xml.indexOf('</Period>'));
    assert.equal((mpd.UTCTiming as Node).value, 'https://live.example/time');
  });

  it('lists the open segment only once its first part exists', () => {
    const template = templateOf(parse(dashMpd(presentation({ openParts: 0 }), cmaf)));
    assert.deepEqual((template.SegmentTimeline as Node).S, [{ t: String(5 * second), d: String(second), r: '2' }]);
    assert.equal(template.availabilityTimeOffset, '0.5');
  });

  it('leaves CSF, protected, ended and Default live MPDs without low-latency signalling', () => {
    const plain = (mpd: Node) => {
      const template = templateOf(mpd);
      assert.equal(template.availabilityTimeOffset, undefined);
      assert.equal(template.availabilityTimeComplete, undefined);
      assert.equal(mpd.ServiceDescription, undefined);
      assert.ok(!String(mpd.profiles).includes('low-latency'));
      assert.deepEqual((template.SegmentTimeline as Node).S, [{ t: String(5 * second), d: String(second), r: '2' }]);
    };
    plain(parse(dashMpd(presentation(), { format: 'mpd-time-csf', extraOptions: [] })));
    plain(parse(dashMpd(presentation({ isEnded: true }), cmaf)));
    const defaultLive = parse(dashMpd(presentation({ lowLatency: false }), cmaf));
    plain(defaultLive);
    assert.equal(defaultLive.suggestedPresentationDelay, 'PT3.000S');
    assert.equal(defaultLive.minimumUpdatePeriod, 'PT1.000S');
    const protectedCtx = {
      ...cmaf,
      protection: { scheme: 'cenc', keyIdOf: () => undefined },
    } as unknown as ManifestContext;
    plain(parse(dashMpd(presentation(), protectedCtx)));
  });
});

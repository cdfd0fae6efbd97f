import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Presentation } from '../../model/presentation.js';
import { dashFrameRate, dashMpd, isoDuration } from './dash.js';
import { applyFilters } from '../../filters/apply-filters.js';
import { parseFragmentPath, type ManifestContext, type ManifestProtection } from './manifest-context.js';
import { hevcPresentation, makeTrack, twoHourPresentation, twoRenditionPresentation } from '../../../../../test/fixtures/hand-built-presentations.js';
import { PLAYREADY_SYSTEM_ID, WIDEVINE_SYSTEM_ID, decodeWidevinePsshData, readPlayReadyObject, readPssh } from '../../../../../test/support/drm-signalling.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (name) => ['Period', 'AdaptationSet', 'Representation', 'S', 'Role', 'AudioChannelConfiguration', 'ContentProtection'].includes(name),
});

function parseMpd(xml: string): Node {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  return (parser.parse(xml) as Node).MPD as Node;
}

/** xs:duration → seconds (the subset isoDuration writes, plus days). */
function durationSec(text: string): number {
  const m = /^P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(text);
  assert.ok(m, `xs:duration '${text}'`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/** Expands a SegmentTimeline as ISO/IEC 23009-1 §5.3.9.6 defines it: `t` optional after the first, `r` extra repeats. */
function expandTimeline(sList: Node[]): Array<{ t: number; d: number }> {
  const out: Array<{ t: number; d: number }> = [];
  let next = 0;
  for (const s of sList) {
    const d = Number(s.d);
    const r = s.r === undefined ? 0 : Number(s.r);
    assert.ok(Number.isSafeInteger(d) && d > 0 && Number.isSafeInteger(r) && r >= 0);
    let t = s.t === undefined ? next : Number(s.t);
    for (let i = 0; i <= r; i++) {
      out.push({ t, d });
      t += d;
    }
    next = t;
  }
  return out;
}

const text = (node: unknown): string | undefined => (typeof node === 'string' ? node : ((node as Node | undefined)?.['#text'] as string | undefined));

/**
 * Checks the ContentProtection descriptors of one key as players read them: `mp4protection` first with the scheme
 * and `cenc:default_KID`, then exactly the DRMs the protection offers, each with a PSSH that decodes to this key
 * (Widevine protobuf, PlayReady Object) and its licence URL.
 */
function checkContentProtection(list: Node[] | undefined, keyId: string, protection: ManifestProtection): void {
  assert.ok(list && list.length > 0, `ContentProtection for ${keyId}`);
  const [mp4, ...drms] = list;
  assert.deepEqual([mp4.schemeIdUri, mp4.value, mp4['cenc:default_KID']], ['urn:mpeg:dash:mp4protection:2011', protection.scheme, keyId]);
  const bySystem = new Map(drms.map((d) => [(d.schemeIdUri as string).replace(/^urn:uuid:/, ''), d]));
  assert.equal(bySystem.size, drms.length, 'one descriptor per DRM');
  const expected = [
    ...(protection.widevine ? [WIDEVINE_SYSTEM_ID] : []),
    ...(protection.playReady ? [PLAYREADY_SYSTEM_ID] : []),
    ...(protection.clearKey ? ['e2719d58-a985-b3c9-781a-b030af78d30e'] : []),
  ];
  assert.deepEqual([...bySystem.keys()], expected);
  const wv = bySystem.get(WIDEVINE_SYSTEM_ID);
  if (wv) {
    const pssh = readPssh(Buffer.from(text(wv['cenc:pssh']) as string, 'base64'));
    assert.equal(pssh.systemId, WIDEVINE_SYSTEM_ID);
    const data = decodeWidevinePsshData(pssh.data);
    assert.deepEqual([data.keyIds, data.protectionScheme], [[keyId], protection.scheme]);
    assert.equal(text(wv['dashif:Laurl']), protection.widevine?.licenseUrl);
  }
  const pr = bySystem.get(PLAYREADY_SYSTEM_ID);
  if (pr) {
    assert.equal(pr.value, 'MSPR 2.0');
    const pssh = readPssh(Buffer.from(text(pr['cenc:pssh']) as string, 'base64'));
    assert.equal(pssh.systemId, PLAYREADY_SYSTEM_ID);
    const pro = Buffer.from(text(pr['mspr:pro']) as string, 'base64');
    assert.deepEqual(pssh.data, pro, 'mspr:pro is the PSSH data');
    const header = readPlayReadyObject(pro);
    assert.deepEqual(header.keys, [{ keyId, algId: protection.scheme === 'cbcs' ? 'AESCBC' : 'AESCTR' }]);
    assert.equal(header.laUrl, protection.playReady?.licenseUrl);
    assert.equal(text(pr['dashif:Laurl']), protection.playReady?.licenseUrl);
  }
  const ck = bySystem.get('e2719d58-a985-b3c9-781a-b030af78d30e');
  if (ck) {
    assert.equal(ck.value, 'ClearKey1.0');
    // No cenc:pssh: players derive ClearKey init data from default_KID (see dash.ts).
    assert.equal(ck['cenc:pssh'], undefined);
    assert.equal(text(ck['dashif:Laurl']), protection.clearKey?.licenseUrl);
  }
}

/** Checks the MPD against the presentation; returns the number of segment URLs resolved. */
function checkMpd(p: Presentation, ctx: ManifestContext): { mpd: Node; urls: number } {
  const mpd = parseMpd(dashMpd(p, ctx));
  assert.equal(mpd.xmlns, 'urn:mpeg:dash:schema:mpd:2011');
  assert.equal(mpd.type, 'static');
  assert.ok(Math.abs(durationSec(mpd.mediaPresentationDuration as string) - p.durationSec) < 0.0005);
  assert.ok(durationSec(mpd.minBufferTime as string) > 0);
  const profiles = (mpd.profiles as string).split(',');
  assert.ok(profiles.includes('urn:mpeg:dash:profile:isoff-live:2011'));
  assert.equal(profiles.includes('urn:mpeg:dash:profile:cmaf:2019'), ctx.format === 'mpd-time-cmaf');
  const protection = ctx.protection;
  // Namespaces of the protection descriptors on the root, only when there is protection (clear MPDs unchanged).
  assert.deepEqual(
    [mpd['xmlns:cenc'], mpd['xmlns:mspr'], mpd['xmlns:dashif']],
    protection ? ['urn:mpeg:cenc:2013', 'urn:microsoft:playready', 'https://dashif.org/CPS'] : [undefined, undefined, undefined],
  );
  const periods = mpd.Period as Node[];
  assert.equal(periods.length, 1);
  const sets = periods[0].AdaptationSet as Node[];
  const ids = new Set<string>();
  const repIds = new Set<string>();
  let urls = 0;
  let seen = 0;
  for (const set of sets) {
    assert.ok(!ids.has(set.id as string), 'AdaptationSet ids unique');
    ids.add(set.id as string);
    assert.equal(set.mimeType, `${set.contentType}/mp4`);
    assert.equal(set.segmentAlignment, 'true');
    for (const rep of set.Representation as Node[]) {
      assert.ok(!repIds.has(rep.id as string), 'Representation ids unique');
      assert.match(rep.id as string, /^\S+$/);
      repIds.add(rep.id as string);
      const bandwidth = Number(rep.bandwidth);
      const template = rep.SegmentTemplate as Node;
      const timescale = Number(template.timescale);
      const timeline = expandTimeline((template.SegmentTimeline as Node).S as Node[]);
      // $Bandwidth$ and $Time$ resolve to paths the origin routes back to exactly this track and segment.
      const resolve = (tpl: string, time?: number) => {
        assert.ok(!tpl.replace(/\$\$|\$Bandwidth\$|\$Time\$/g, '').includes('$'), `only $Bandwidth$ and $Time$ in ${tpl}`);
        return tpl.replaceAll('$Bandwidth$', String(bandwidth)).replaceAll('$Time$', String(time));
      };
      const init = parseFragmentPath(resolve(template.initialization as string));
      assert.ok(init && init.start === 'init');
      const track = p.tracks.find((t) => t.bitrateBps === init.bitrate && t.name === decodeURIComponent(init.trackName));
      assert.ok(track, `a track for ${init.bitrate}/${init.trackName}`);
      seen++;
      assert.equal(init.format, ctx.format);
      assert.deepEqual(init.options.extraOptions, ctx.extraOptions);
      assert.equal(timescale, track.track.timescale);
      assert.equal(rep.codecs, track.track.codecs);
      assert.equal(set.contentType, track.kind);
      // Each encrypted track's key is signalled on its set or its Representation; clear tracks get nothing.
      const keyId = protection?.keyIdOf(track);
      if (keyId && protection) checkContentProtection((rep.ContentProtection ?? set.ContentProtection) as Node[] | undefined, keyId, protection);
      else assert.equal(rep.ContentProtection ?? set.ContentProtection, undefined, `${track.name} is clear`);
      if (rep.ContentProtection) assert.equal(set.ContentProtection, undefined, 'signalled at one level only');
      assert.deepEqual(
        timeline,
        track.segments.toArray().map((s) => ({ t: s.startTicks, d: s.durationTicks })),
      );
      // The timeline adds up to the track's duration (its kept segments' when filtered), and to the presentation's
      // within a segment.
      const total = timeline.reduce((sum, s) => sum + s.d, 0);
      const filtered = 'segmentRange' in p;
      assert.equal(total, filtered ? track.segments.durationTicks.reduce((a, b) => a + b, 0) : track.track.durationTicks);
      // The Period starts at the earliest track's first segment: presentationTimeOffset (absent when 0) is that
      // time in this track's timescale, and no track starts before it nor a segment after it.
      const pto = template.presentationTimeOffset === undefined ? 0 : Number(template.presentationTimeOffset);
      assert.ok(Number.isSafeInteger(pto) && pto >= 0 && template.presentationTimeOffset !== '0');
      assert.ok(timeline[0].t >= pto && timeline[0].t - pto < timeline[0].d, `${track.name}: first segment at ${timeline[0].t}, offset ${pto}`);
      const earliestSec = Math.min(...p.tracks.filter((t) => t.kind !== 'text').map((t) => t.segments.startTicks[0] / t.track.timescale));
      assert.ok(Math.abs(pto / timescale - earliestSec) < 1 / timescale + 1e-9, `${track.name}: offset ${pto / timescale} s, start ${earliestSec} s`);
      assert.ok(Math.abs(total / timescale - p.durationSec) < 0.05, `${track.name}: ${total / timescale} vs ${p.durationSec}`);
      for (const s of timeline) {
        const f = parseFragmentPath(resolve(template.media as string, s.t));
        assert.ok(f);
        assert.equal(f.start, s.t);
        assert.equal(f.bitrate, track.bitrateBps);
        assert.equal(decodeURIComponent(f.trackName), track.name);
        urls++;
      }
    }
  }
  assert.equal(seen, p.tracks.filter((t) => t.kind !== 'text').length, 'every track has a Representation');
  return { mpd, urls };
}

describe('dashMpd', () => {
  it('writes a CMAF MPD: video set, one audio set per language, main role on the first', () => {
    const p = twoRenditionPresentation();
    const ctx: ManifestContext = { format: 'mpd-time-cmaf', extraOptions: ['filter=f1', 'encryption=cenc'] };
    const { mpd, urls } = checkMpd(p, ctx);
    assert.equal(urls, 4 * 31);
    assert.equal(mpd.mediaPresentationDuration, 'PT1M1.000S');
    assert.equal(mpd.minBufferTime, 'PT2.005S');
    const sets = (mpd.Period as Node[])[0].AdaptationSet as Node[];
    assert.deepEqual(
      sets.map((s) => [s.contentType, s.lang, s.maxWidth, s.maxHeight, s.maxFrameRate]),
      [
        ['video', undefined, '1280', '720', '25'],
        ['audio', 'en', undefined, undefined, undefined],
        ['audio', 'fr', undefined, undefined, undefined],
      ],
    );
    assert.deepEqual(
      sets.map((s) => (s.Role as Node[] | undefined)?.map((r) => [r.schemeIdUri, r.value])),
      [undefined, [['urn:mpeg:dash:role:2011', 'main']], undefined],
    );
    const audioConfig = (sets[1].AudioChannelConfiguration as Node[])[0];
    assert.deepEqual([audioConfig.schemeIdUri, audioConfig.value], ['urn:mpeg:dash:23003:3:audio_channel_configuration:2011', '2']);
    const videoReps = sets[0].Representation as Node[];
    assert.deepEqual(
      videoReps.map((r) => [r.id, r.bandwidth, r.codecs, r.width, r.height, r.frameRate]),
      [
        ['video_3400000', '3400000', 'avc1.64001f', '1280', '720', '25'],
        ['video_1200000', '1200000', 'avc1.4d401e', '640', '360', '25'],
      ],
    );
    const audioRep = (sets[1].Representation as Node[])[0];
    assert.deepEqual([audioRep.bandwidth, audioRep.audioSamplingRate], ['128000', '48000']);
    const template = videoReps[0].SegmentTemplate as Node;
    assert.equal(template.initialization, 'QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-cmaf,filter=f1,encryption=cenc)');
    assert.equal(template.media, 'QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-cmaf,filter=f1,encryption=cenc)');
    // Equal durations run-length coded: 30 × 2 s then the 1 s tail.
    assert.deepEqual((template.SegmentTimeline as Node).S, [{ t: '0', d: '25600', r: '29' }, { d: '12800' }]);
  });

  it('writes CSF with the live profile only', () => {
    const { mpd } = checkMpd(twoRenditionPresentation(), { format: 'mpd-time-csf', extraOptions: [] });
    assert.equal(mpd.profiles, 'urn:mpeg:dash:profile:isoff-live:2011');
  });

  it('writes H.265 at 30000/1001 and splits video sets by codec family', () => {
    const hevc = hevcPresentation();
    const { mpd } = checkMpd(hevc, { format: 'mpd-time-cmaf', extraOptions: [] });
    const sets = (mpd.Period as Node[])[0].AdaptationSet as Node[];
    const rep = (sets[0].Representation as Node[])[0];
    assert.deepEqual([rep.codecs, rep.frameRate, sets[0].maxFrameRate], ['hvc1.1.6.L120.90', '30000/1001', '30000/1001']);
    const avc = twoRenditionPresentation().tracks[0];
    const mixed: Presentation = {
      ...hevc,
      tracks: [
        ...hevc.tracks,
        { ...avc, segments: hevc.tracks[0].segments, track: { ...avc.track, timescale: 30000, durationTicks: hevc.tracks[0].track.durationTicks } },
      ],
    };
    const split = (parseMpd(dashMpd(mixed, { format: 'mpd-time-cmaf', extraOptions: [] })).Period as Node[])[0].AdaptationSet as Node[];
    assert.deepEqual(
      split.map((s) => s.contentType),
      ['video', 'video', 'audio'],
    );
  });

  it('writes a gap in the timeline with an explicit t, and escapes XML in names', () => {
    const p = twoRenditionPresentation();
    const gapped = makeTrack(
      {
        kind: 'audio',
        name: 'aac&"<odd>',
        bitrateBps: 64000,
        language: 'deu',
        timescale: 1000,
        fourcc: 'mp4a',
        codecs: 'mp4a.40.2',
        durations: [2000, 2000, 2000],
        firstStartTicks: 500,
      },
      3,
    );
    gapped.segments.startTicks[2] = 4600;
    gapped.segments.durationTicks[2] = 1900;
    const xml = dashMpd({ ...p, tracks: [...p.tracks, gapped] }, { format: 'mpd-time-cmaf', extraOptions: [] });
    const mpd = parseMpd(xml);
    const sets = (mpd.Period as Node[])[0].AdaptationSet as Node[];
    const rep = (sets[3].Representation as Node[])[0];
    assert.equal(sets[3].lang, 'de');
    assert.equal(rep.id, 'aac&"<odd>_64000');
    assert.deepEqual(((rep.SegmentTemplate as Node).SegmentTimeline as Node).S, [
      { t: '500', d: '2000', r: '1' },
      { t: '4600', d: '1900' },
    ]);
    assert.equal((rep.SegmentTemplate as Node).media, 'QualityLevels($Bandwidth$)/Fragments(aac%26%22%3Codd%3E=$Time$,format=mpd-time-cmaf)');
  });

  it('refuses formats that are not DASH', () => {
    assert.throws(() => dashMpd(twoRenditionPresentation(), { format: 'm3u8-cmaf', extraOptions: [] }), /cannot be written/);
  });

  it('writes a 2-hour MPD quickly', (t) => {
    const p = twoHourPresentation();
    const ctx: ManifestContext = { format: 'mpd-time-cmaf', extraOptions: [] };
    const { urls } = checkMpd(p, ctx);
    assert.equal(urls, 4 * 3600);
    const runs: number[] = [];
    for (let i = 0; i < 30; i++) {
      const start = performance.now();
      dashMpd(p, ctx);
      runs.push(performance.now() - start);
    }
    runs.sort((a, b) => a - b);
    t.diagnostic(`2 h MPD (4 tracks × 3600 segments): median ${runs[15].toFixed(3)} ms`);
    assert.ok(runs[15] < 25);
  });
});

describe('dashMpd protection signalling', () => {
  const videoKey = '11111111-2222-3333-4444-555555555555';
  const audioKey = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

  it('signals CENC with Widevine, PlayReady and ClearKey per AdaptationSet, one key each', () => {
    const p = twoRenditionPresentation();
    const protection: ManifestProtection = {
      scheme: 'cenc',
      keyIdOf: (t) => (t.kind === 'video' ? videoKey : audioKey),
      widevine: { licenseUrl: 'https://wv.example/license?kid=1&alt=2' },
      playReady: { licenseUrl: 'https://pr.example/rightsmanager.asmx?cfg=x&y', customAttributes: '<CONTENTID>42</CONTENTID>' },
      clearKey: { licenseUrl: 'https://reel.example/keydelivery/9a3c1b52-2d3e-4a8e-9a51-2b8f0c4f6a10/clearkey' },
    };
    const { mpd } = checkMpd(p, { format: 'mpd-time-cmaf', extraOptions: ['encryption=cenc'], protection });
    const sets = (mpd.Period as Node[])[0].AdaptationSet as Node[];
    assert.deepEqual(
      sets.map((s) => (s.ContentProtection as Node[])[0]['cenc:default_KID']),
      [videoKey, audioKey, audioKey],
    );
    const xml = dashMpd(p, { format: 'mpd-time-cmaf', extraOptions: [], protection });
    // Schema order in the audio set: AudioChannelConfiguration, ContentProtection, Role, Representation.
    assert.match(
      xml,
      /<AudioChannelConfiguration [^>]*\/>\n\s*<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011"[\s\S]*?<\/ContentProtection>\n\s*<Role /,
    );
    assert.match(xml, /<dashif:Laurl>https:\/\/wv\.example\/license\?kid=1&amp;alt=2<\/dashif:Laurl>/);
  });

  it('signals CBCS on each Representation when a set mixes clear and encrypted tracks', () => {
    const p = twoRenditionPresentation();
    const protection: ManifestProtection = {
      scheme: 'cbcs',
      // The 720p rendition is encrypted, the 360p one and the French audio are clear.
      keyIdOf: (t) => (t.bitrateBps === 3400000 ? videoKey : t.name === 'aac_eng_2_128' ? audioKey : undefined),
      clearKey: { licenseUrl: 'https://reel.example/keydelivery/l/clearkey' },
      playReady: {},
    };
    const { mpd } = checkMpd(p, { format: 'mpd-time-csf', extraOptions: [], protection });
    const sets = (mpd.Period as Node[])[0].AdaptationSet as Node[];
    assert.equal(sets[0].ContentProtection, undefined);
    assert.deepEqual(
      (sets[0].Representation as Node[]).map((r) => (r.ContentProtection as Node[] | undefined)?.length),
      [3, undefined],
    );
    assert.equal((sets[1].ContentProtection as Node[]).length, 3);
    assert.equal(sets[2].ContentProtection, undefined);
  });

  it('refuses AES-128 envelope encryption, which DASH cannot signal', () => {
    const protection: ManifestProtection = { scheme: 'aes-128', keyIdOf: () => videoKey, keyUrl: () => 'https://k' };
    assert.throws(() => dashMpd(twoRenditionPresentation(), { format: 'mpd-time-cmaf', extraOptions: [], protection }), /not AES-128/);
  });

  it('builds a protected 2-hour MPD with the DRM headers computed once per key', () => {
    const p = twoHourPresentation();
    let calls = 0;
    const protection: ManifestProtection = {
      scheme: 'cenc',
      keyIdOf: () => {
        calls++;
        return videoKey;
      },
      widevine: {},
      clearKey: { licenseUrl: 'https://reel.example/ck' },
    };
    const { urls } = checkMpd(p, { format: 'mpd-time-cmaf', extraOptions: [], protection });
    assert.equal(urls, 4 * 3600);
    calls = 0;
    dashMpd(p, { format: 'mpd-time-cmaf', extraOptions: [], protection });
    // Once per track for the shared-key check, not per segment.
    assert.ok(calls <= p.tracks.length, `${calls} key lookups`);
  });
});

describe('isoDuration and dashFrameRate', () => {
  it('format xs:duration and FrameRateType', () => {
    assert.equal(isoDuration(0), 'PT0.000S');
    assert.equal(isoDuration(61), 'PT1M1.000S');
    assert.equal(isoDuration(7200), 'PT2H0M0.000S');
    assert.equal(isoDuration(3723.4567), 'PT1H2M3.457S');
    assert.equal(dashFrameRate(25), '25');
    assert.equal(dashFrameRate(29.97), '30000/1001');
    assert.equal(dashFrameRate(23.976), '24000/1001');
    assert.equal(dashFrameRate(59.94), '60000/1001');
    assert.equal(dashFrameRate(12.5), '25/2');
    assert.equal(dashFrameRate(0), undefined);
  });
});

describe('dashMpd of a filtered presentation', () => {
  const whole = twoRenditionPresentation();
  const clip = applyFilters(whole, [
    {
      name: 'clip',
      presentationTimeRange: { startTimestamp: 110_000_000, endTimestamp: 210_000_000 },
      firstQuality: { bitrate: 1_500_000 },
      tracks: [{ trackSelections: [{ property: 'Language', operation: 'NotEqual', value: 'fre' }] }],
    },
  ]);

  for (const format of ['mpd-time-cmaf', 'mpd-time-csf'] as const) {
    it(`starts the Period at the clip's first segment and lasts the clip (${format})`, () => {
      const { mpd, urls } = checkMpd(clip, { format, extraOptions: [] });
      assert.equal(mpd.mediaPresentationDuration, 'PT12.000S');
      const period = (mpd.Period as Node[])[0];
      assert.equal(period.start, 'PT0.000S');
      const [videoSet, audioSet, ...rest] = period.AdaptationSet as Node[];
      assert.equal(rest.length, 0, 'French audio filtered out');
      const reps = videoSet.Representation as Node[];
      assert.deepEqual(
        reps.map((r) => r.bandwidth),
        ['1200000', '3400000'],
        'firstQuality first',
      );
      const videoTemplate = reps[0].SegmentTemplate as Node;
      assert.equal(videoTemplate.presentationTimeOffset, String(10 * 12800));
      const videoTimeline = expandTimeline((videoTemplate.SegmentTimeline as Node).S as Node[]);
      assert.deepEqual(videoTimeline[0], { t: 10 * 12800, d: 25600 });
      assert.equal(videoTimeline.length, 6);
      const audioTemplate = (audioSet.Representation as Node[])[0].SegmentTemplate as Node;
      assert.equal(audioTemplate.presentationTimeOffset, String(10 * 48000));
      const audioTimeline = expandTimeline((audioTemplate.SegmentTimeline as Node).S as Node[]);
      // The same segments (start times) as in the unfiltered MPD.
      assert.deepEqual(audioTimeline[0].t, whole.tracks[2].segments.startTicks[5]);
      assert.equal(urls, 3 * 6);
    });
  }

  it('writes no presentationTimeOffset for a whole asset or a clip from 0', () => {
    assert.doesNotMatch(dashMpd(whole, { format: 'mpd-time-cmaf', extraOptions: [] }), /presentationTimeOffset/);
    const head = applyFilters(whole, [{ name: 'head', presentationTimeRange: { endTimestamp: 40_000_000 } }]);
    const { mpd } = checkMpd(head, { format: 'mpd-time-cmaf', extraOptions: [] });
    assert.doesNotMatch(dashMpd(head, { format: 'mpd-time-cmaf', extraOptions: [] }), /presentationTimeOffset/);
    // To the end of the last kept audio segment, which ends a fraction of an AAC frame after the video's 4 s.
    assert.equal(mpd.mediaPresentationDuration, 'PT4.011S');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestError } from '../../../../shared/errors.js';
import {
  createManifestContext,
  dashInitializationTemplate,
  dashMediaTemplate,
  encodeTrackName,
  escapeXml,
  fragmentName,
  fragmentUrl,
  languageTag,
  mediaPlaylistUrl,
  parseFragmentPath,
  parseManifestOptions,
  parseMediaPlaylistPath,
  partFragmentName,
  smoothUrlTemplate,
  type ManifestContext,
} from './manifest-context.js';
import { twoRenditionPresentation } from '../../../../../test/fixtures/hand-built-presentations.js';

const p = twoRenditionPresentation();
const video = p.tracks[0];
const english = p.tracks[2];

function rejects(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.detail, pattern);
    return true;
  });
}

describe('parseManifestOptions', () => {
  const valid: Array<[string, Partial<ReturnType<typeof parseManifestOptions>>]> = [
    ['', { format: 'smooth', filters: [], extraOptions: [] }],
    ['format=m3u8-cmaf', { format: 'm3u8-cmaf', filters: [], extraOptions: [] }],
    ['format=m3u8-cmaf,filter=a;b', { format: 'm3u8-cmaf', filters: ['a', 'b'], extraOptions: ['filter=a;b'] }],
    ['FORMAT=MPD-TIME-CSF', { format: 'mpd-time-csf' }],
    ['format=m3u8-aapl-v4', { format: 'm3u8-aapl' }],
    ['format=mpd-time-cmaf,encryption=CENC', { format: 'mpd-time-cmaf', encryption: 'cenc', extraOptions: ['encryption=cenc'] }],
    // Canonical order in extraOptions whatever the URL order; audio-only is not carried.
    [
      'encryption=cbcs-aapl,audio-only=false,format=m3u8-cmaf,filter=first-minute',
      { format: 'm3u8-cmaf', audioOnly: false, encryption: 'cbcs-aapl', extraOptions: ['filter=first-minute', 'encryption=cbcs-aapl'] },
    ],
    ['format=m3u8-cmaf,vbegin=PT1M30S,vend=PT1H', { vbeginSec: 90, vendSec: 3600, extraOptions: ['vbegin=PT1M30S', 'vend=PT1H'] }],
    [
      'format=mpd-time-cmaf,start=2024-01-01T00:00:00Z,end=2024-01-01T01:00:00.5Z',
      { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 1, 1, 0, 0, 500) },
    ],
  ];
  for (const [text, expected] of valid) {
    it(`accepts '${text}'`, () => {
      const options = parseManifestOptions(text);
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(options[key as keyof typeof options], value, key);
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ['format', /malformed option 'format'/],
    ['format=', /malformed/],
    ['format=m3u8-cmaf,', /malformed option ''/],
    [',format=m3u8-cmaf', /malformed/],
    ['format=m3u8-cmaf,format=mpd-time-cmaf', /given twice/],
    ['format=hls', /unknown format 'hls'/],
    ['format=m3u8-aapl-v3', /m3u8-aapl-v3.*not supported/],
    ['format=m3u8-cmaf,filter=', /malformed/],
    ['format=m3u8-cmaf,filter=a;;b', /invalid filter name ''/],
    ['format=m3u8-cmaf,filter=a/b', /invalid filter name 'a\/b'/],
    ['format=m3u8-cmaf,encryption=aes', /unknown encryption 'aes'/],
    ['audio-only=no', /audio-only must be true or false/],
    ['vbegin=90', /ISO 8601 duration/],
    ['vbegin=PT', /ISO 8601 duration/],
    ['vbegin=PT99999999999S', /ISO 8601 duration/],
    ['vbegin=PT10S,vend=PT5S', /vend must be after vbegin/],
    ['start=yesterday', /ISO 8601 UTC instant/],
    ['start=2024-02-30T00:00:00Z', /ISO 8601 UTC instant/],
    ['type=keyframes', /unknown option 'type'/],
    ['format=m3u8-cmaf filter=a', /malformed/],
    ['x'.repeat(2000), /too long/],
  ];
  for (const [text, pattern] of invalid) {
    it(`rejects '${text.slice(0, 60)}'`, () => rejects(() => parseManifestOptions(text), 'InvalidManifestOptions', pattern));
  }
});

describe('URL helpers', () => {
  const cmaf: ManifestContext = { format: 'm3u8-cmaf', extraOptions: ['filter=f1', 'encryption=cbcs-aapl'] };
  const smooth: ManifestContext = { format: 'smooth', extraOptions: [] };

  it('write the AMS URL forms with the options carried along', () => {
    assert.equal(fragmentUrl(video, 'i', cmaf), 'QualityLevels(3400000)/Fragments(video=i,format=m3u8-cmaf,filter=f1,encryption=cbcs-aapl)');
    assert.equal(fragmentUrl(video, 25600, cmaf), 'QualityLevels(3400000)/Fragments(video=25600,format=m3u8-cmaf,filter=f1,encryption=cbcs-aapl)');
    assert.equal(fragmentName(english, 0, { format: 'm3u8-aapl', extraOptions: [] }), 'Fragments(aac_eng_2_128=0,format=m3u8-aapl)');
    assert.equal(mediaPlaylistUrl(english, cmaf), 'QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf,filter=f1,encryption=cbcs-aapl)');
    assert.equal(
      dashInitializationTemplate(video, { format: 'mpd-time-cmaf', extraOptions: [] }),
      'QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-cmaf)',
    );
    assert.equal(
      dashMediaTemplate(video, { format: 'mpd-time-csf', extraOptions: ['filter=f1'] }),
      'QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-csf,filter=f1)',
    );
    assert.equal(smoothUrlTemplate('video', smooth), 'QualityLevels({bitrate})/Fragments(video={start time})');
    assert.equal(fragmentUrl(video, 0, smooth), 'QualityLevels(3400000)/Fragments(video=0)');
  });

  it('round-trip through parseFragmentPath and parseMediaPlaylistPath', () => {
    const ctx = createManifestContext('m3u8-cmaf', parseManifestOptions('format=m3u8-cmaf,filter=a;b,audio-only=false'));
    assert.deepEqual(ctx, { format: 'm3u8-cmaf', extraOptions: ['filter=a;b'], audioOnlyVariant: false });
    const init = parseFragmentPath(fragmentUrl(video, 'i', ctx));
    assert.deepEqual({ ...init, options: undefined }, { bitrate: 3400000, trackName: 'video', start: 'init', format: 'm3u8-cmaf', options: undefined });
    assert.deepEqual(init?.options.filters, ['a', 'b']);
    const media = parseFragmentPath(fragmentUrl(english, 2 ** 53 - 1, ctx));
    assert.equal(media?.start, 2 ** 53 - 1);
    assert.equal(media?.trackName, 'aac_eng_2_128');
    const playlist = parseMediaPlaylistPath(mediaPlaylistUrl(english, ctx));
    assert.deepEqual({ ...playlist, options: undefined }, { bitrate: 128000, trackName: 'aac_eng_2_128', format: 'm3u8-cmaf', options: undefined });
    const smoothFragment = parseFragmentPath(fragmentUrl(video, 51200, smooth));
    assert.equal(smoothFragment?.format, 'smooth');
    assert.equal(smoothFragment?.start, 51200);
    // A leading slash and the .m3u8 extension form are accepted.
    assert.equal(parseFragmentPath('/QualityLevels(1)/Fragments(v=0,format=m3u8-aapl)')?.bitrate, 1);
    assert.equal(parseMediaPlaylistPath('QualityLevels(1)/Manifest(v,format=m3u8-aapl).m3u8')?.format, 'm3u8-aapl');
  });

  it('percent-encode unusual track names, which the router decoding once restores', () => {
    assert.equal(encodeTrackName('aac_eng_2_128'), 'aac_eng_2_128');
    const odd = { ...video, name: 'a b$&é' };
    const url = fragmentUrl(odd, 0, smooth);
    assert.equal(url, 'QualityLevels(3400000)/Fragments(a%20b%24%26%C3%A9=0)');
    assert.equal(parseFragmentPath(decodeURIComponent(url))?.trackName, 'a b$&é');
    // Grammar characters are encoded too, so a URL never looks malformed; the presentation builder keeps
    // names to [A-Za-z0-9_.-], so they never reach a router that decodes before matching.
    assert.equal(encodeTrackName('x(1),y=2'), 'x%281%29%2Cy%3D2');
  });

  it('return undefined for paths of another kind', () => {
    for (const path of ['manifest(format=m3u8-cmaf)', 'video.mp4', 'QualityLevels(1)/Manifest(v,format=m3u8-cmaf)', 'Fragments(video=0)']) {
      assert.equal(parseFragmentPath(path), undefined, path);
    }
    for (const path of ['manifest(format=m3u8-cmaf)', 'QualityLevels(1)/Fragments(v=0)']) assert.equal(parseMediaPlaylistPath(path), undefined, path);
  });

  const badPaths: Array<[string, RegExp]> = [
    ['QualityLevels(-1)/Fragments(video=0)', /bitrate '-1'/],
    ['QualityLevels(0)/Fragments(video=0)', /bitrate '0'/],
    ['QualityLevels(1.5)/Fragments(video=0)', /bitrate '1.5'/],
    ['QualityLevels(012)/Fragments(video=0)', /bitrate '012'/],
    ['QualityLevels(99999999999999999)/Fragments(video=0)', /bitrate/],
    ['QualityLevels()/Fragments(video=0)', /bitrate ''/],
    ['QualityLevels(1)/Fragments(video=-5)', /fragment start '-5'/],
    ['QualityLevels(1)/Fragments(video=1.5)', /fragment start '1.5'/],
    ['QualityLevels(1)/Fragments(video=1e3)', /fragment start '1e3'/],
    ['QualityLevels(1)/Fragments(video=9007199254740992)', /below 2\^53/],
    ['QualityLevels(1)/Fragments(video=00)', /fragment start '00'/],
    ['QualityLevels(1)/Fragments(video=)', /fragment start ''/],
    ['QualityLevels(1)/Fragments(video=0x10)', /fragment start/],
    ['QualityLevels(1)/Fragments(=0)', /expected Fragments/],
    ['QualityLevels(1)/Fragments(video)', /expected Fragments/],
    ['QualityLevels(1)/Fragments(video=0', /expected Fragments/],
    ['QualityLevels(1)/Fragments(video=0)/x', /expected Fragments/],
  ];
  for (const [path, pattern] of badPaths) {
    it(`rejects '${path}'`, () => rejects(() => parseFragmentPath(path), 'InvalidPlaybackPath', pattern));
  }

  it('write and read LL-HLS part URLs: part=k right after format, other options after it', () => {
    const name = partFragmentName(video, 25600, 2, cmaf);
    assert.equal(name, 'Fragments(video=25600,format=m3u8-cmaf,part=2,filter=f1,encryption=cbcs-aapl)');
    const parsed = parseFragmentPath(`QualityLevels(3400000)/${name}.m4s`);
    assert.deepEqual(
      { ...parsed, options: undefined },
      { bitrate: 3400000, trackName: 'video', start: 25600, format: 'm3u8-cmaf', options: undefined, part: 2 },
    );
    assert.deepEqual(parsed?.options.extraOptions, ['filter=f1', 'encryption=cbcs-aapl']);
    assert.equal(parseFragmentPath('QualityLevels(1)/Fragments(v=0,part=0,format=m3u8-cmaf)')?.part, 0);
    // Not a part: no part field at all.
    assert.ok(!('part' in (parseFragmentPath('QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf)') ?? {})));
    const badParts: Array<[string, RegExp]> = [
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf,part=-1)', /part must be a whole number/],
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf,part=01)', /part must be a whole number/],
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf,part=x)', /part must be a whole number/],
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf,part=1,part=2)', /given twice/],
      ['QualityLevels(1)/Fragments(v=i,format=m3u8-cmaf,part=1)', /segment start, not i/],
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-aapl,part=1)', /need format=m3u8-cmaf/],
      ['QualityLevels(1)/Fragments(v=0,format=mpd-time-cmaf,part=1)', /need format=m3u8-cmaf/],
      ['QualityLevels(1)/Fragments(v=0,part=1)', /need format=m3u8-cmaf/],
      ['QualityLevels(1)/Fragments(v=0,format=m3u8-cmaf,type=keyframes,part=1)', /cannot go together/],
    ];
    for (const [path, pattern] of badParts) rejects(() => parseFragmentPath(path), 'InvalidPlaybackPath', pattern);
    // `part` is a fragment option, not a manifest one.
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(v,format=m3u8-cmaf,part=1)'), 'InvalidManifestOptions', /unknown option 'part'/);
  });

  it('rejects bad options inside fragment and media playlist paths', () => {
    rejects(() => parseFragmentPath('QualityLevels(1)/Fragments(video=0,format=nope)'), 'InvalidManifestOptions', /unknown format/);
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(video,format=mpd-time-cmaf)'), 'InvalidPlaybackPath', /m3u8-cmaf or format=m3u8-aapl/);
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(video)'), 'InvalidPlaybackPath', /m3u8/);
    rejects(() => parseMediaPlaylistPath('QualityLevels(1)/Manifest(,format=m3u8-cmaf)'), 'InvalidPlaybackPath', /expected Manifest/);
  });
});

describe('languageTag and escapeXml', () => {
  it('map ISO 639-2 to the shortest BCP 47 tag', () => {
    assert.equal(languageTag('eng'), 'en');
    assert.equal(languageTag('fre'), 'fr');
    assert.equal(languageTag('fra'), 'fr');
    assert.equal(languageTag('ger'), 'de');
    assert.equal(languageTag('yue'), 'yue');
    assert.equal(languageTag('en-US'), 'en-us');
    assert.equal(languageTag('und'), undefined);
    assert.equal(languageTag(''), undefined);
    assert.equal(languageTag('e"n'), undefined);
  });

  it('escapes the five XML specials', () => {
    assert.equal(escapeXml(`a&b<c>"d'`), 'a&amp;b&lt;c&gt;&quot;d&apos;');
    assert.equal(escapeXml('plain'), 'plain');
  });
});

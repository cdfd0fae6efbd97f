import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { makeMp4 } from '../../../../../test/fixtures/media.js';
import { MediaError } from '../../../../shared/errors.js';
import type { Presentation } from '../../model/presentation.js';
import { parseFragmentPath, type ManifestProtection } from './manifest-context.js';
import { readPlayReadyObject } from '../../../../../test/support/drm-signalling.js';
import { codecPrivateData, smoothFourCC, smoothManifest } from './smooth.js';
import { SegmentList } from '../../model/segment.js';
import { applyFilters } from '../../filters/apply-filters.js';
import {
  ffmpegAnnexBNalUnits,
  ffprobeExtradataHex,
  hevcPresentation,
  makeHevcMp4,
  makeTrack,
  readSampleEntries,
  twoHourPresentation,
  twoRenditionPresentation,
} from '../../../../../test/fixtures/hand-built-presentations.js';

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (name) => ['StreamIndex', 'QualityLevel', 'c'].includes(name),
});

function parseSmooth(xml: string): Node {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  return (parser.parse(xml) as Node).SmoothStreamingMedia as Node;
}

/** Chunk start times and durations as Smooth clients read them: `r` counts the chunks an element stands for. */
function expandChunks(chunks: Node[]): Array<{ t: number; d: number }> {
  const out: Array<{ t: number; d: number }> = [];
  let next = 0;
  for (const c of chunks) {
    const d = Number(c.d);
    const count = c.r === undefined ? 1 : Number(c.r);
    assert.ok(count >= 1);
    let t = c.t === undefined ? next : Number(c.t);
    for (let i = 0; i < count; i++) {
      out.push({ t, d });
      t += d;
    }
    next = t;
  }
  return out;
}

/** Parses the manifest and checks chunks and URL templates against the presentation. */
function checkSmooth(p: Presentation, extraOptions: string[] = [], protection?: ManifestProtection): Node {
  const xml = smoothManifest(p, { format: 'smooth', extraOptions, protection });
  const media = parseSmooth(xml);
  // Protection (MS-SSTR §2.2.2.2) comes before the StreamIndexes, with one PlayReady header naming every key.
  const keyIds = new Set(p.tracks.map((t) => protection?.keyIdOf(t)).filter((k) => k !== undefined));
  if (keyIds.size > 0) {
    assert.ok(xml.indexOf('<Protection>') < xml.indexOf('<StreamIndex '));
    const header = (media.Protection as Node).ProtectionHeader as Node;
    assert.equal(header.SystemID, '9A04F079-9840-4286-AB92-E65BE0885F95');
    const wrm = readPlayReadyObject(Buffer.from(header['#text'] as string, 'base64'));
    assert.deepEqual(new Set(wrm.keys.map((k) => k.keyId)), keyIds);
    assert.ok(wrm.keys.every((k) => k.algId === 'AESCTR'));
    assert.equal(wrm.laUrl, protection?.playReady?.licenseUrl);
  } else assert.equal(media.Protection, undefined);
  assert.equal(media.MajorVersion, '2');
  assert.equal(media.MinorVersion, '2');
  assert.equal(Number(media.Duration), Math.round(p.durationSec * 1e7));
  for (const index of media.StreamIndex as Node[]) {
    const levels = index.QualityLevel as Node[];
    assert.equal(Number(index.QualityLevels), levels.length);
    const chunks = expandChunks(index.c as Node[]);
    assert.equal(Number(index.Chunks), chunks.length);
    for (const level of levels) {
      const url = (time: number) => (index.Url as string).replace('{bitrate}', level.Bitrate as string).replace('{start time}', String(time));
      const track = p.tracks.find((t) => String(t.bitrateBps) === level.Bitrate && t.name === index.Name);
      assert.ok(track, `track for ${index.Name} at ${level.Bitrate}`);
      assert.equal(Number(index.TimeScale), track.track.timescale);
      assert.equal(level.FourCC, smoothFourCC(track.track));
      assert.deepEqual(
        chunks,
        track.segments.toArray().map((s) => ({ t: s.startTicks, d: s.durationTicks })),
      );
      for (const chunk of chunks) {
        const f = parseFragmentPath(url(chunk.t));
        assert.ok(f);
        assert.deepEqual([f.bitrate, f.trackName, f.start, f.format], [track.bitrateBps, track.name, chunk.t, 'smooth']);
        assert.deepEqual(f.options.extraOptions, extraOptions);
      }
    }
  }
  return media;
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();

describe('smoothManifest', () => {
  let avc: { video?: Uint8Array; audio?: Uint8Array };
  let hevc: { video?: Uint8Array; audio?: Uint8Array };
  let avcFile: string;
  let hevcFile: string;

  before(() => {
    avcFile = makeMp4();
    hevcFile = makeHevcMp4();
    avc = readSampleEntries(avcFile);
    hevc = readSampleEntries(hevcFile);
  });

  it('writes one video StreamIndex with two quality levels and one per audio language', () => {
    const p = twoRenditionPresentation(avc);
    const media = checkSmooth(p);
    const indexes = media.StreamIndex as Node[];
    assert.deepEqual(
      indexes.map((i) => [i.Type, i.Name, i.Language, i.QualityLevels, i.Chunks, i.TimeScale, i.Url]),
      [
        ['video', 'video', undefined, '2', '31', '12800', 'QualityLevels({bitrate})/Fragments(video={start time})'],
        ['audio', 'aac_eng_2_128', 'eng', '1', '31', '48000', 'QualityLevels({bitrate})/Fragments(aac_eng_2_128={start time})'],
        ['audio', 'aac_fra_2_96', 'fra', '1', '31', '48000', 'QualityLevels({bitrate})/Fragments(aac_fra_2_96={start time})'],
      ],
    );
    assert.deepEqual([indexes[0].MaxWidth, indexes[0].MaxHeight], ['1280', '720']);
    const levels = indexes[0].QualityLevel as Node[];
    assert.deepEqual(
      levels.map((l) => [l.Index, l.Bitrate, l.FourCC, l.MaxWidth, l.MaxHeight]),
      [
        ['0', '3400000', 'H264', '1280', '720'],
        ['1', '1200000', 'H264', '640', '360'],
      ],
    );
    const audio = (indexes[1].QualityLevel as Node[])[0];
    assert.deepEqual(
      [audio.FourCC, audio.SamplingRate, audio.Channels, audio.BitsPerSample, audio.PacketSize, audio.AudioTag],
      ['AACL', '48000', '2', '16', '4', '255'],
    );
    // r counts the chunks the element stands for: 30 chunks of 2 s, then the 1 s tail.
    assert.deepEqual(indexes[0].c, [{ t: '0', d: '25600', r: '30' }, { d: '12800' }]);
  });

  it('carries extra options into the Url template', () => {
    const media = checkSmooth(twoRenditionPresentation(avc), ['filter=f1']);
    assert.equal((media.StreamIndex as Node[])[0].Url, 'QualityLevels({bitrate})/Fragments(video={start time},filter=f1)');
  });

  it('writes H.264 CodecPrivateData as the Annex B SPS and PPS of the avcC, as ffmpeg reads them', () => {
    const media = checkSmooth(twoRenditionPresentation(avc));
    const cpd = ((media.StreamIndex as Node[])[0].QualityLevel as Node[])[0].CodecPrivateData as string;
    const nals = ffmpegAnnexBNalUnits(avcFile, 'h264');
    const sps = nals.find((n) => (n[0] & 0x1f) === 7);
    const pps = nals.find((n) => (n[0] & 0x1f) === 8);
    assert.ok(sps && pps);
    assert.equal(cpd, `00000001${hexOf(sps)}00000001${hexOf(pps)}`);
    // The profile and level bytes players derive avc1.PPCCLL from.
    assert.match(cpd, /^0000000167(64|4D|42)00[0-9A-F]{2}/);
  });

  it('writes the AAC AudioSpecificConfig from esds verbatim, as ffprobe reads it', () => {
    const media = checkSmooth(twoRenditionPresentation(avc));
    const cpd = ((media.StreamIndex as Node[])[1].QualityLevel as Node[])[0].CodecPrivateData as string;
    assert.equal(cpd, ffprobeExtradataHex(avcFile, 'a:0'));
    // ffmpeg's AAC-LC 48 kHz mono config (1188) plus its explicit "no SBR" sync extension (56E500).
    assert.equal(cpd, '118856E500');
  });

  it('writes H.265 CodecPrivateData as VPS, SPS and PPS from the hvcC', () => {
    const p = hevcPresentation(hevc);
    const media = checkSmooth(p);
    const level = ((media.StreamIndex as Node[])[0].QualityLevel as Node[])[0];
    assert.equal(level.FourCC, 'HVC1');
    const nals = ffmpegAnnexBNalUnits(hevcFile, 'hevc');
    const want = [32, 33, 34].map((type) => nals.find((n) => ((n[0] >> 1) & 0x3f) === type));
    assert.ok(want.every(Boolean));
    assert.equal(level.CodecPrivateData, want.map((n) => `00000001${hexOf(n as Uint8Array)}`).join(''));
    // 2.002 s chunks at 30000 Hz.
    assert.deepEqual((media.StreamIndex as Node[])[0].c, [{ t: '0', d: '60060', r: '9' }, { d: '59059' }]);
  });

  it('synthesizes the AudioSpecificConfig when the sample entry has none, and uses AACH for HE-AAC', () => {
    const he = makeTrack({
      kind: 'audio',
      name: 'he',
      bitrateBps: 48000,
      timescale: 44100,
      fourcc: 'mp4a',
      codecs: 'mp4a.40.5',
      audio: { channels: 2, sampleRate: 44100, aacObjectType: 5 },
      durations: [88200],
    });
    assert.equal(codecPrivateData(he.track), '2A10');
    assert.equal(smoothFourCC(he.track), 'AACH');
  });

  it('leaves out tracks Smooth cannot carry and reports corrupt codec configuration', () => {
    const p = twoRenditionPresentation(avc);
    const ac3 = { ...p.tracks[2], name: 'ac3', track: { ...p.tracks[2].track, fourcc: 'ac-3', codecs: 'ac-3' } };
    const media = checkSmooth({ ...p, tracks: [...p.tracks, ac3] });
    assert.equal((media.StreamIndex as Node[]).length, 3);
    assert.throws(
      () => smoothManifest({ ...p, tracks: [ac3] }, { format: 'smooth', extraOptions: [] }),
      (err) => err instanceof MediaError && err.status === 415,
    );
    const truncated = { ...p.tracks[0], track: { ...p.tracks[0].track, sampleEntry: (avc.video as Uint8Array).subarray(0, 90) } };
    assert.throws(
      () => codecPrivateData(truncated.track),
      (err) => err instanceof MediaError && /avcC/.test(err.detail),
    );
    const broken = new Uint8Array(avc.video as Uint8Array);
    // Claim a huge avcC: the child box overruns the sample entry.
    new DataView(broken.buffer).setUint32(86, 0x7fffffff);
    assert.throws(
      () => codecPrivateData({ ...p.tracks[0].track, sampleEntry: broken }),
      (err) => err instanceof MediaError && /overruns/.test(err.detail),
    );
  });

  it('gives tracks with their own timeline their own StreamIndex', () => {
    const p = twoRenditionPresentation(avc);
    const other = {
      ...p.tracks[1],
      track: { ...p.tracks[1].track, timescale: 25600 },
      segments: SegmentList.from(p.tracks[1].segments.toArray().map((s) => ({ ...s, startTicks: s.startTicks * 2, durationTicks: s.durationTicks * 2 }))),
    };
    const media = checkSmooth({ ...p, tracks: [p.tracks[0], other, p.tracks[2]] });
    assert.deepEqual(
      (media.StreamIndex as Node[]).map((i) => [i.Name, i.TimeScale, i.QualityLevels]),
      [
        ['video', '12800', '1'],
        ['video', '25600', '1'],
        ['aac_eng_2_128', '48000', '1'],
      ],
    );
  });

  it('writes one PlayReady ProtectionHeader for CENC: a 4.0 header for one key, 4.2 for several', () => {
    const p = twoRenditionPresentation(avc);
    const key = '11111111-2222-3333-4444-555555555555';
    const one = checkSmooth(p, ['encryption=piff'], { scheme: 'cenc', keyIdOf: () => key, playReady: { licenseUrl: 'https://pr.example/la?x=1&y=2' } });
    const header = ((one.Protection as Node).ProtectionHeader as Node)['#text'] as string;
    assert.equal(readPlayReadyObject(Buffer.from(header, 'base64')).version, '4.0.0.0');
    const two = checkSmooth(p, [], { scheme: 'cenc', keyIdOf: (t) => (t.kind === 'video' ? key : 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee') });
    const header2 = ((two.Protection as Node).ProtectionHeader as Node)['#text'] as string;
    assert.equal(readPlayReadyObject(Buffer.from(header2, 'base64')).version, '4.2.0.0');
    checkSmooth(p, [], { scheme: 'cenc', keyIdOf: () => undefined });
    assert.throws(() => smoothManifest(p, { format: 'smooth', extraOptions: [], protection: { scheme: 'cbcs', keyIdOf: () => key } }), /not cbcs/);
  });

  it('refuses formats that are not Smooth, and writes a 2-hour manifest', () => {
    assert.throws(() => smoothManifest(twoRenditionPresentation(avc), { format: 'm3u8-cmaf', extraOptions: [] }), /cannot be written/);
    const p = twoHourPresentation();
    const withEntries = {
      ...p,
      tracks: p.tracks.map((t) => ({ ...t, track: { ...t.track, sampleEntry: (t.kind === 'video' ? avc.video : avc.audio) as Uint8Array } })),
    };
    const media = checkSmooth(withEntries);
    assert.equal((media.StreamIndex as Node[])[0].Chunks, '3600');
  });
});

describe('smoothManifest of a filtered presentation', () => {
  let whole: Presentation;

  before(() => {
    whole = twoRenditionPresentation(readSampleEntries(makeMp4()));
  });

  it('starts the chunks at the clip (t on the first), with the clip as Duration and firstQuality first', () => {
    const clip = applyFilters(whole, [
      { name: 'clip', presentationTimeRange: { startTimestamp: 11, endTimestamp: 21, timescale: 1 }, firstQuality: { bitrate: 1_199_999 } },
    ]);
    const media = checkSmooth(clip);
    assert.equal(media.Duration, '120000000');
    const [video, english, french] = media.StreamIndex as Node[];
    assert.ok(french, 'every audio language kept');
    assert.equal(video.Chunks, '6');
    const first = (video.c as Node[])[0];
    assert.deepEqual([first.t, first.d, first.r], [String(10 * 12800), '25600', '6']);
    // The lowest rendition is the closest at or above 1199999 when none is below it.
    assert.deepEqual(
      (video.QualityLevel as Node[]).map((q) => [q.Index, q.Bitrate]),
      [
        ['0', '1200000'],
        ['1', '3400000'],
      ],
    );
    assert.equal((english.c as Node[])[0].t, String(whole.tracks[2].segments.startTicks[5]));
  });

  it('lists only the selected tracks', () => {
    const hd = applyFilters(whole, [
      {
        name: 'hd-english',
        tracks: [
          {
            trackSelections: [
              { property: 'Type', operation: 'Equal', value: 'Video' },
              { property: 'Bitrate', operation: 'Equal', value: '2000000-9000000' },
            ],
          },
          { trackSelections: [{ property: 'Language', operation: 'Equal', value: 'eng' }] },
        ],
      },
    ]);
    const media = checkSmooth(hd);
    assert.deepEqual(
      (media.StreamIndex as Node[]).map((i) => [i.Name, i.QualityLevels, i.Chunks]),
      [
        ['video', '1', '31'],
        ['aac_eng_2_128', '1', '31'],
      ],
    );
    assert.equal(media.Duration, '610000000');
  });
});

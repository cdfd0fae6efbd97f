import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { makeLadder } from '../fixtures/media.js';
import { writeTtmlMp4, writeWvttMp4, type WvttCue } from '../fixtures/text-media.js';
import { stppMp4 } from '../fixtures/wvtt-mp4.js';

// The server runs in this process: tools that read from it must run asynchronously, never with *Sync.
const run = promisify(execFile);

interface Probe {
  streams: Array<{ codec_type: string; codec_name?: string; codec_tag_string: string; tags?: { language?: string } }>;
  packets?: Array<{ pts_time: string; data?: string }>;
}
const ffprobe = async (input: string, extra: string[] = []): Promise<Probe> =>
  JSON.parse(
    (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_streams', ...extra, input], { encoding: 'utf8' })).stdout,
  ) as Probe;

const get = async (url: string): Promise<{ body: Buffer; type: string }> => {
  const res = await request(url);
  assert.equal(res.status, 200, `${url}: ${res.body.toString().slice(0, 300)}`);
  return { body: res.body, type: String(res.headers['content-type']) };
};
const uriLines = (playlist: string) => playlist.split('\n').filter((l) => l && !l.startsWith('#'));

/** Cues of a WebVTT text as [start s, end s, text], in order. */
function cuesOf(vtt: string): Array<[number, number, string]> {
  const sec = (t: string) => {
    const [h, m, s] = t.split(':');
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  };
  const out: Array<[number, number, string]> = [];
  for (const block of vtt.split(/\n\n+/)) {
    const lines = block.split('\n');
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0) continue;
    const m = /^(\d+:\d\d:\d\d\.\d{3}) --> (\d+:\d\d:\d\d\.\d{3})/.exec(lines[at]);
    assert.ok(m, lines[at]);
    out.push([
      sec(m[1]),
      sec(m[2]),
      lines
        .slice(at + 1)
        .join('\n')
        .trim(),
    ]);
  }
  return out;
}

// Cues on the 6 s ladder, whose segments are cut on its 2 s keyframes: the second spans the 2 s boundary.
const englishCues: WvttCue[] = [
  { start: 0.5, end: 1.5, text: 'Hello there' },
  { start: 1.8, end: 2.6, text: 'Across the boundary' },
  { start: 4, end: 5.5, text: 'Last words' },
];
const frenchCues: WvttCue[] = [
  { start: 0.25, end: 1, text: 'Bonjour', id: 'c1' },
  { start: 1.5, end: 3.5, text: 'A travers la limite', settings: 'line:0' },
  { start: 4.5, end: 5, text: 'Fin' },
];
const expected = (cues: WvttCue[]) => cues.map((c): [number, number, string] => [c.start, c.end, c.text]);

describe('text tracks inside MP4s (stpp, wvtt) over HTTP: DASH text sets, HLS subtitles', () => {
  let server: TestServer;
  let api: ApiClient;
  let scratch: string;
  const V = '/api/v1/projects/default/media';
  const ladder = makeLadder();
  const locatorId = '5c0ffee0-7e47-4222-8333-000000000001';
  const trimmedId = '5c0ffee0-7e47-4222-8333-000000000002';
  let base: string;

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'vod');
    const dir = path.join(root, 'texts');
    scratch = path.join(server.localArea(), 'scratch');
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(scratch, { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(dir, f));
    writeTtmlMp4(path.join(dir, 'clip_eng_ttml.mp4'), englishCues, 'eng');
    writeWvttMp4(path.join(dir, 'clip_fre_wvtt.mp4'), frenchCues, ladder.seconds, 'fre');
    // Two TTML documents, the second from 3 s: the 2–4 s segment overlaps both.
    const ttml = (begin: string, end: string, text: string) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<tt xmlns="http://www.w3.org/ns/ttml" xml:lang="de"><body><div><p begin="${begin}" end="${end}">${text}</p></div></body></tt>`;
    fs.writeFileSync(
      path.join(dir, 'clip_ger_ttml.mp4'),
      stppMp4(
        [
          { start: 0, ttml: ttml('00:00:00.500', '00:00:02.500', 'Erste') },
          { start: 3, ttml: ttml('00:00:03.200', '00:00:04.000', 'Zweite') },
        ],
        { durationSec: ladder.seconds, language: 'ger' },
      ),
    );
    const ism = ladder.ism.replace(
      '    </switch>',
      '      <textstream src="clip_eng_ttml.mp4" systemLanguage="eng"><param name="trackName" value="ttml_eng" valuetype="data" /></textstream>\n' +
        '      <textstream src="clip_fre_wvtt.mp4" systemLanguage="fre"><param name="trackName" value="vtt_fre" valuetype="data" /></textstream>\n' +
        '      <textstream src="clip_ger_ttml.mp4" systemLanguage="ger"><param name="trackName" value="ttml_ger" valuetype="data" /></textstream>\n' +
        '    </switch>',
    );
    fs.writeFileSync(path.join(dir, 'clip.ism'), ism);
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/texts`, { properties: { storageAccountName: 'vod', container: 'texts' } })).status, 201);
    const acct = await api.put(`${V}/accountFilters/middle`, {
      properties: { presentationTimeRange: { startTimestamp: 20_000_000, endTimestamp: 40_000_000, timescale: 10_000_000 } },
    });
    assert.ok(acct.status === 200 || acct.status === 201, JSON.stringify(acct.body));
    const noText = await api.put(`${V}/assets/texts/assetFilters/notext`, {
      properties: { tracks: [{ trackSelections: [{ property: 'Type', operation: 'NotEqual', value: 'Text' }] }] },
    });
    assert.ok(noText.status === 200 || noText.status === 201, JSON.stringify(noText.body));
    for (const [name, streamingLocatorId, filters] of [
      ['plain', locatorId, undefined],
      ['trimmed', trimmedId, ['middle']],
    ] as const) {
      const res = await api.put(`${V}/streamingLocators/${name}`, {
        properties: { assetName: 'texts', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId, ...(filters ? { filters } : {}) },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    base = `${server.url}/${locatorId}/clip.ism`;
  });
  after(async () => {
    await server?.close();
  });

  /** The text Representation of `codecs` in an MPD: its init and media URLs (relative to the .ism), all segments. */
  function dashText(mpd: string, codecs: string): { init: string; media: string[] } {
    const rep = new RegExp(`<Representation id="[^"]+" bandwidth="(\\d+)" codecs="${codecs}">[\\s\\S]*?</Representation>`).exec(mpd);
    assert.ok(rep, mpd);
    const bandwidth = rep[1];
    const template = /initialization="([^"]+)" media="([^"]+)"/.exec(rep[0])!;
    const fill = (t: string) => t.replace(/&amp;/g, '&').replace('$Bandwidth$', bandwidth);
    const times: number[] = [];
    let t = 0;
    for (const s of rep[0].matchAll(/<S(?: t="(\d+)")? d="(\d+)"(?: r="(\d+)")?\/>/g)) {
      if (s[1] !== undefined) t = Number(s[1]);
      for (let i = 0; i <= Number(s[3] ?? 0); i++) {
        times.push(t);
        t += Number(s[2]);
      }
    }
    return { init: fill(template[1]), media: times.map((time) => fill(template[2]).replace('$Time$', String(time))) };
  }

  it('DASH (cmaf and csf): a text AdaptationSet per track whose fMP4 segments ffprobe reads as stpp / wvtt, TTML cues intact', async () => {
    for (const format of ['mpd-time-cmaf', 'mpd-time-csf']) {
      const mpd = (await get(`${base}/manifest(format=${format})`)).body.toString();
      assert.match(
        mpd,
        /<AdaptationSet id="\d+" contentType="text" mimeType="application\/mp4" segmentAlignment="true" startWithSAP="1" lang="en">\n\s*<Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"\/>\n\s*<Representation id="ttml_eng_\d+" bandwidth="\d+" codecs="stpp">/,
      );
      assert.match(mpd, /<AdaptationSet id="\d+" contentType="text" mimeType="application\/mp4" segmentAlignment="true" startWithSAP="1" lang="fr">/);
      for (const [codecs, name] of [
        ['stpp', 'ttml'],
        ['wvtt', 'wvtt'],
      ] as const) {
        const { init, media } = dashText(mpd, codecs);
        // The same timeline as the video: 3 segments of 2 s.
        assert.equal(media.length, 3, `${format} ${codecs}`);
        const parts = [await get(`${base}/${init}`), ...(await Promise.all(media.map((m) => get(`${base}/${m}`))))];
        for (const p of parts) assert.equal(p.type, 'application/mp4');
        const joined = path.join(scratch, `${format}-${name}.mp4`);
        fs.writeFileSync(joined, Buffer.concat(parts.map((p) => p.body)));
        const probe = await ffprobe(joined, ['-show_packets', '-show_data']);
        assert.equal(probe.streams.length, 1);
        assert.equal(probe.streams[0].codec_tag_string, codecs);
        assert.equal(probe.streams[0].tags?.language, codecs === 'stpp' ? 'eng' : 'fre');
        // Segment starts are the video's: 0, 2 and 4 s are each the start of a sample.
        const starts = (probe.packets ?? []).map((p) => Number(p.pts_time));
        for (const s of [0, 2, 4]) assert.ok(starts.includes(s), `${format} ${codecs}: a sample starts at ${s} s (${starts.join(', ')})`);
        if (codecs === 'stpp') {
          // Each segment carries the TTML document (ffmpeg wrote one for the whole track) with every cue's times.
          for (const m of media) {
            const doc = (await get(`${base}/${m}`)).body.toString('utf8');
            for (const cue of englishCues) {
              const t = (s: number) => `00:00:0${s.toFixed(3)}`;
              assert.match(doc, new RegExp(`begin="${t(cue.start)}"\\s+end="${t(cue.end)}"><span[^>]*>${cue.text}</span>`), m);
            }
          }
        }
      }
    }
  });

  it('DASH: an stpp segment that two TTML documents overlap is one sample, one document with both cues', async () => {
    const mpd = (await get(`${base}/manifest(format=mpd-time-cmaf)`)).body.toString();
    const set = /<AdaptationSet[^>]*lang="de">[\s\S]*?<\/AdaptationSet>/.exec(mpd);
    assert.ok(set, mpd);
    const { init, media } = dashText(set[0], 'stpp');
    const parts = [await get(`${base}/${init}`), ...(await Promise.all(media.map((m) => get(`${base}/${m}`))))];
    const joined = path.join(scratch, 'merged-ttml.mp4');
    fs.writeFileSync(joined, Buffer.concat(parts.map((p) => p.body)));
    const probe = await ffprobe(joined, ['-show_packets']);
    // One document per 2 s segment.
    assert.deepEqual(
      (probe.packets ?? []).map((p) => Number(p.pts_time)),
      [0, 2, 4],
    );
    const docs = parts.slice(1).map((p) => {
      const body = p.body;
      return body.subarray(body.indexOf('mdat') + 4).toString('utf8');
    });
    assert.match(docs[0], /^<\?xml[^>]*>\n<tt [^>]*><body><div><p begin="00:00:00.500" end="00:00:02.500">Erste<\/p><\/div><\/body><\/tt>$/);
    assert.match(
      docs[1],
      /<body><div><p begin="00:00:00.500" end="00:00:02.500">Erste<\/p><\/div><div><p begin="00:00:03.200" end="00:00:04.000">Zweite<\/p><\/div><\/body><\/tt>$/,
    );
    assert.equal((docs[1].match(/<tt /g) ?? []).length, 1, 'one document');
    assert.match(docs[2], /Zweite/);
    assert.doesNotMatch(docs[2], /Erste/);
  });

  it('HLS CMAF: SUBTITLES renditions; wvtt served as WebVTT segments whose cues are the source cues; stpp as fMP4 IMSC1', async () => {
    const master = (await get(`${base}/manifest(format=m3u8-cmaf)`)).body.toString();
    const media = (name: string) => {
      const m = new RegExp(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs(?:-imsc1)?",NAME="${name}",LANGUAGE="(\\w+)".*URI="([^"]+)"`).exec(master);
      assert.ok(m, master);
      return { language: m[1], url: `${base}/${m[2]}` };
    };
    assert.match(master, /CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2,stpp\.ttml\.im1t",RESOLUTION=.*SUBTITLES="subs-imsc1"/);
    assert.match(master, /CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2",RESOLUTION=.*SUBTITLES="subs"/);
    const fre = media('vtt_fre');
    assert.equal(fre.language, 'fr');
    const playlist = (await get(fre.url)).body.toString();
    assert.doesNotMatch(playlist, /EXT-X-MAP/);
    const segments = await Promise.all(uriLines(playlist).map((u) => get(new URL(u, fre.url).toString())));
    assert.equal(segments.length, 3);
    const all: Array<[number, number, string]> = [];
    for (const s of segments) {
      assert.match(s.type, /^text\/vtt/);
      assert.match(s.body.toString(), /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n/);
      for (const c of cuesOf(s.body.toString())) if (!all.some((a) => a.join() === c.join())) all.push(c);
    }
    assert.deepEqual(all, expected(frenchCues));
    // The cue across 2 s is in both of the first two segments, whole.
    assert.deepEqual(cuesOf(segments[1].body.toString())[0], [1.5, 3.5, 'A travers la limite']);

    const eng = media('ttml_eng');
    const stppPlaylist = (await get(eng.url)).body.toString();
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(stppPlaylist);
    assert.ok(map, stppPlaylist);
    const parts = [
      await get(new URL(map[1], eng.url).toString()),
      ...(await Promise.all(uriLines(stppPlaylist).map((u) => get(new URL(u, eng.url).toString())))),
    ];
    const joined = path.join(scratch, 'hls-stpp.mp4');
    fs.writeFileSync(joined, Buffer.concat(parts.map((p) => p.body)));
    const probe = await ffprobe(joined);
    assert.equal(probe.streams[0].codec_tag_string, 'stpp');
    assert.match(parts[1].body.toString('utf8'), /<p\s+begin="00:00:00.500"\s+end="00:00:01.500"><span[^>]*>Hello there<\/span><\/p>/);

    // ffmpeg's HLS reader plays the WebVTT rendition's playlist: its cues at their times (ffmpeg 5.1 lists no
    // subtitle renditions from a multivariant playlist, so the media playlist is what it is given).
    const hlsProbe = await ffprobe(fre.url, ['-show_packets']);
    assert.deepEqual(
      hlsProbe.streams.map((s) => [s.codec_type, s.codec_name]),
      [['subtitle', 'webvtt']],
    );
    assert.deepEqual(
      (hlsProbe.packets ?? []).map((p) => Number(p.pts_time)),
      frenchCues.map((c) => c.start),
    );
  });

  it('HLS TS: wvtt as WebVTT segments on the TS timestamp map; stpp left out', async () => {
    const master = (await get(`${base}/manifest(format=m3u8-aapl)`)).body.toString();
    assert.doesNotMatch(master, /ttml_eng|stpp/);
    const uri = /NAME="vtt_fre".*URI="([^"]+)"/.exec(master)![1];
    const playlistUrl = `${base}/${uri}`;
    const playlist = (await get(playlistUrl)).body.toString();
    const segments = await Promise.all(uriLines(playlist).map((u) => get(new URL(u, playlistUrl).toString())));
    for (const s of segments) assert.match(s.body.toString(), /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n/);
    assert.deepEqual(cuesOf(segments[2].body.toString()), [[4.5, 5, 'Fin']]);
    // The stpp track's playlist is not offered in TS.
    const stpp = await request(`${base}/${uri.replace(/QualityLevels\(\d+\)\/Manifest\(vtt_fre/, (m) => m).replace('vtt_fre', 'ttml_eng')}`);
    assert.equal(stpp.status, 404);
  });

  it('filters: a time range keeps the text segments of the clip, Type NotEqual Text removes the text sets', async () => {
    const trimmed = `${server.url}/${trimmedId}/clip.ism`;
    const mpd = (await get(`${trimmed}/manifest(format=mpd-time-cmaf)`)).body.toString();
    const { media } = dashText(mpd, 'wvtt');
    assert.deepEqual(
      media.map((m) => /=(\d+),/.exec(m)?.[1]),
      ['2000'],
    );
    const playlistUri = /NAME="vtt_fre".*URI="([^"]+)"/.exec((await get(`${trimmed}/manifest(format=m3u8-cmaf)`)).body.toString())![1];
    const playlist = (await get(`${trimmed}/${playlistUri}`)).body.toString();
    assert.equal(uriLines(playlist).length, 1);
    const vtt = (await get(new URL(uriLines(playlist)[0], `${trimmed}/${playlistUri}`).toString())).body.toString();
    assert.deepEqual(cuesOf(vtt), [[1.5, 3.5, 'A travers la limite']]);

    const filtered = (await get(`${base}/manifest(format=mpd-time-cmaf,filter=notext)`)).body.toString();
    assert.doesNotMatch(filtered, /contentType="text"/);
    const hls = (await get(`${base}/manifest(format=m3u8-cmaf,filter=notext)`)).body.toString();
    assert.doesNotMatch(hls, /TYPE=SUBTITLES|stpp/);
  });
});

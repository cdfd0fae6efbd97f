import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeLadder } from '../fixtures/media.js';
import { writeTtmlMp4, writeWvttMp4, type WvttCue } from '../fixtures/text-media.js';
import { closeBrowser, openPlayer, type PlayerName } from './players/play.js';

/**
 * Text tracks inside MP4s shown by real players in Chromium: each player selects the subtitle track and its cues
 * (as the player hands them to the video element's text tracks) carry the source cues' texts and times.
 */
describe('real players show the cues of text tracks inside MP4s', () => {
  let server: TestServer;
  let host: string;
  const ladder = makeLadder();
  const locatorId = '7e1e7e1e-7e47-4000-8000-000000000001';
  const english: WvttCue[] = [
    { start: 0.5, end: 1.5, text: 'Hello there' },
    { start: 1.8, end: 2.6, text: 'Across the boundary' },
    { start: 4, end: 5.5, text: 'Last words' },
  ];
  const french: WvttCue[] = [
    { start: 0.25, end: 1, text: 'Bonjour' },
    { start: 1.5, end: 3.5, text: 'A travers la limite' },
    { start: 4.5, end: 5, text: 'Fin' },
  ];

  before(async () => {
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    const api = new ApiClient(server.url).withToken(
      (await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token,
    );
    const dir = path.join(server.localArea(), 'vod', 'texts');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(dir, f));
    writeTtmlMp4(path.join(dir, 'clip_eng_ttml.mp4'), english, 'eng');
    writeWvttMp4(path.join(dir, 'clip_fre_wvtt.mp4'), french, ladder.seconds, 'fre');
    // Only the in-MP4 tracks (the side-loaded file is left out, so the players have these two to choose from).
    const ism = ladder.ism.replace(
      /\s*<textstream src="clip_eng.vtt"[^\n]*<\/textstream>/,
      '\n      <textstream src="clip_eng_ttml.mp4" systemLanguage="eng"><param name="trackName" value="ttml_eng" valuetype="data" /></textstream>' +
        '\n      <textstream src="clip_fre_wvtt.mp4" systemLanguage="fre"><param name="trackName" value="vtt_fre" valuetype="data" /></textstream>',
    );
    fs.writeFileSync(path.join(dir, 'clip.ism'), ism);
    const V = '/api/v1/projects/default/media';
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: path.dirname(dir) } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/texts`, { properties: { storageAccountName: 'vod', container: 'texts' } })).status, 201);
    // hls.js plays one SUBTITLES group per variant: the hls.js cases keep one text track with a URL filter.
    for (const [name, fourcc] of [
      ['ttml', 'stpp'],
      ['vtt', 'wvtt'],
    ]) {
      const filter = await api.put(`${V}/assets/texts/assetFilters/${name}`, {
        properties: {
          tracks: [
            { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Video' }] },
            { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Audio' }] },
            { trackSelections: [{ property: 'FourCC', operation: 'Equal', value: fourcc }] },
          ],
        },
      });
      assert.equal(filter.status, 201, JSON.stringify(filter.body));
    }
    const locator = await api.put(`${V}/streamingLocators/texts`, {
      properties: { assetName: 'texts', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    assert.equal(locator.status, 201, JSON.stringify(locator.body));
    const endpoint = await api.get(`${V}/streamingEndpoints/default`);
    host = `http://${endpoint.body.properties.hostName as string}`;
  });
  after(async () => {
    await closeBrowser();
    await server?.close();
  });

  /** Page script: select the text track of language `lang` ('en'/'fr') in the player and show it. */
  const select: Record<PlayerName, (lang: string) => string> = {
    'hls.js': (lang) =>
      `(() => { const h = window.reelPlayer; const i = h.subtitleTracks.findIndex((t) => t.lang === '${lang}'); if (i < 0) return false; h.subtitleDisplay = true; h.subtitleTrack = i; return true; })()`,
    'dash.js': (lang) =>
      `(() => { const p = window.reelPlayer; if (!p.isReady()) return false; const t = p.getTracksFor('text').find((x) => x.lang === '${lang}'); if (!t) return false; p.enableText(true); p.setCurrentTrack(t); return true; })()`,
    shaka: (lang) =>
      `(() => { const p = window.reelPlayer; const t = p.getTextTracks().find((x) => x.language === '${lang}'); if (!t) return false; p.selectTextTrack(t); if (p.setTextTrackVisibility) p.setTextTrackVisibility(true); return true; })()`,
  };
  /** Every cue the video element's text tracks hold: [start, end, text] (dash.js's TTML cues carry theirs in the IMSC ISD they render into the page's div). */
  const cuesScript = `Array.from(document.querySelector('video').textTracks).flatMap((t) => Array.from(t.cues || []).map((c) => [c.startTime, c.endTime, (c.text || (c.isd ? (JSON.stringify(c.isd).match(/"text":"[^"]*"/g) || []).map((x) => x.slice(8, -1)).join(' ') : '')).replace(/<[^>]*>/g, '').trim()]))`;

  const cases: Array<[PlayerName, string, 'en' | 'fr']> = [
    ['hls.js', 'm3u8-cmaf,filter=vtt', 'fr'], // wvtt → WebVTT segments
    ['hls.js', 'm3u8-cmaf,filter=ttml', 'en'], // stpp → fMP4 IMSC1
    ['shaka', 'mpd-time-cmaf', 'en'],
    ['shaka', 'mpd-time-cmaf', 'fr'],
    ['dash.js', 'mpd-time-cmaf', 'en'],
    ['dash.js', 'mpd-time-cmaf', 'fr'],
  ];
  for (const [player, format, lang] of cases) {
    it(`${player} ${format}: the ${lang === 'en' ? 'stpp (TTML)' : 'wvtt (WebVTT)'} track's cues`, async () => {
      const session = await openPlayer({ url: `${host}/${locatorId}/clip.ism/manifest(format=${format})`, player });
      try {
        const deadline = Date.now() + 30_000;
        while (!(await session.evaluate<boolean>(select[player](lang)))) {
          if (Date.now() > deadline) assert.fail(`${player}: no ${lang} text track\n${(await session.log()).slice(-20).join('\n')}`);
          await new Promise((r) => setTimeout(r, 250));
        }
        const want = (lang === 'en' ? english : french).map((c) => c.text);
        let cues: Array<[number, number, string]> = [];
        while (!want.every((w) => cues.some((c) => c[2].includes(w)))) {
          if (Date.now() > deadline)
            assert.fail(`${player}: cues seen ${JSON.stringify(cues)}\n${[...(await session.errors()), ...(await session.log()).slice(-20)].join('\n')}`);
          await new Promise((r) => setTimeout(r, 250));
          cues = await session.evaluate<Array<[number, number, string]>>(cuesScript);
        }
        // A player may cut a cue at a segment boundary (Shaka clips TTML cues to their segment): together its pieces
        // span the source cue.
        for (const c of lang === 'en' ? english : french) {
          const seen = cues.filter((x) => x[2].includes(c.text));
          const start = Math.min(...seen.map((x) => x[0]));
          const end = Math.max(...seen.map((x) => x[1]));
          assert.ok(Math.abs(start - c.start) < 0.05 && Math.abs(end - c.end) < 0.05, `${player} ${c.text}: ${JSON.stringify(seen)}`);
        }
        assert.deepEqual(await session.errors(), []);
      } finally {
        await session.close();
      }
    });
  }
});

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

// The server runs in this process: tools that read from it must run asynchronously, never with *Sync.
const run = promisify(execFile);
const probeDuration = async (url: string): Promise<number> =>
  Number(
    (
      JSON.parse(
        (await run('ffprobe', ['-v', 'error', '-rw_timeout', '10000000', '-print_format', 'json', '-show_format', url], { encoding: 'utf8' })).stdout,
      ) as {
        format: { duration: string };
      }
    ).format.duration,
  );

/** Per-packet (pts seconds, MD5 of the coded bytes) of one stream, as ffprobe demuxes it. */
const packetHashes = async (url: string, stream: 'v:0' | 'a:0'): Promise<Array<{ pts: number; hash: string }>> => {
  const out = JSON.parse(
    (
      await run(
        'ffprobe',
        ['-v', 'error', '-rw_timeout', '10000000', '-select_streams', stream, '-show_packets', '-show_data_hash', 'MD5', '-print_format', 'json', url],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      )
    ).stdout,
  ) as { packets: Array<{ pts_time: string; data_hash: string }> };
  return out.packets.map((p) => ({ pts: Number(p.pts_time), hash: p.data_hash }));
};

const text = async (url: string): Promise<string> => {
  const res = await request(url);
  assert.equal(res.status, 200, `${url}: ${res.body.toString().slice(0, 300)}`);
  return res.body.toString();
};
const uriLines = (playlist: string) => playlist.split('\n').filter((l) => l && !l.startsWith('#'));
const durationsOf = (playlist: string) => [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Math.round(Number(m[1]) * 1000) / 1000);
/** A child URL without its `filter=` option: what the same resource is called in an unfiltered manifest. */
const unfiltered = (url: string) => url.replace(/,filter=[^,)]*/, '');

describe('filtered playback: asset and account filters in every manifest', () => {
  let server: TestServer;
  let api: ApiClient;
  const V = '/api/v1/projects/default/media';
  const ladder = makeLadder();
  const plainId = '5c0ffee0-1515-4222-8333-000000000001';
  const trimmedId = '5c0ffee0-1515-4222-8333-000000000002';
  let plain: string;
  let trimmed: string;

  const putAssetFilter = async (name: string, properties: Record<string, unknown>) => {
    const res = await api.put(`${V}/assets/ladder/assetFilters/${name}`, { properties });
    assert.ok(res.status === 200 || res.status === 201, `asset filter ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const videoOr = (selection: Array<Record<string, string>>) => [
    { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Video' }] },
    { trackSelections: selection },
  ];

  before(async () => {
    server = await startTestServer('sqlite');
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
    fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);

    // Asset filters: English audio only; the low rung only; one that leaves nothing.
    await putAssetFilter('english', { tracks: videoOr([{ property: 'Language', operation: 'Equal', value: 'en' }]) });
    await putAssetFilter('low', {
      tracks: [
        {
          trackSelections: [
            { property: 'Type', operation: 'Equal', value: 'Video' },
            { property: 'Bitrate', operation: 'Equal', value: '0-500000' },
          ],
        },
        { trackSelections: [{ property: 'Type', operation: 'Equal', value: 'Audio' }] },
      ],
    });
    await putAssetFilter('nothing', { tracks: [{ trackSelections: [{ property: 'Language', operation: 'Equal', value: 'ja' }] }] });
    // An account filter: the 2 s…6 s of the clip (segments are cut on its 2 s keyframes).
    const acct = await api.put(`${V}/accountFilters/middle`, {
      properties: { presentationTimeRange: { startTimestamp: 20_000_000, endTimestamp: 60_000_000, timescale: 10_000_000 } },
    });
    assert.ok(acct.status === 200 || acct.status === 201, `account filter: ${acct.status} ${JSON.stringify(acct.body)}`);

    for (const [name, streamingLocatorId, filters] of [
      ['plain', plainId, undefined],
      ['trimmed', trimmedId, ['middle']],
    ] as const) {
      const res = await api.put(`${V}/streamingLocators/${name}`, {
        properties: { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId, ...(filters ? { filters } : {}) },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    plain = `${server.url}/${plainId}/clip.ism`;
    trimmed = `${server.url}/${trimmedId}/clip.ism`;
  });
  after(async () => {
    await server?.close();
  });

  it('an asset filter in the URL selects audio by language in HLS-CMAF, HLS-TS, DASH and Smooth', async () => {
    for (const format of ['m3u8-cmaf', 'm3u8-aapl']) {
      const all = await text(`${plain}/manifest(format=${format})`);
      assert.match(all, /aac_fre_2_96/, `${format}: unfiltered has French`);
      const master = await text(`${plain}/manifest(format=${format},filter=english)`);
      assert.doesNotMatch(master, /aac_fre_2_96/, `${format}: no French`);
      assert.match(master, /aac_eng_2_128/, `${format}: English`);
      assert.match(master, /QualityLevels\(800000\)/);
      assert.match(master, /QualityLevels\(300000\)/);
      // Every media playlist URL carries the filter, so the player's playlists are filtered too.
      const children = [...uriLines(master), ...[...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1])];
      for (const child of children) assert.match(child, /,filter=english\)/, `${format}: ${child}`);
      // A media playlist of a track the filter excludes is not there.
      const fre = `${plain}/QualityLevels(96000)/Manifest(aac_fre_2_96,format=${format},filter=english)`;
      assert.equal((await request(fre)).status, 404);
    }
    const mpd = await text(`${plain}/manifest(format=mpd-time-cmaf,filter=english)`);
    assert.doesNotMatch(mpd, /aac_fre_2_96|lang="fr"/);
    assert.match(mpd, /aac_eng_2_128/);
    assert.match(mpd, /filter=english/);
    const smooth = await text(`${plain}/manifest(filter=english)`);
    assert.doesNotMatch(smooth, /aac_fre_2_96/);
    assert.match(smooth, /aac_eng_2_128/);
    assert.match(await text(`${plain}/manifest`), /aac_fre_2_96/);
  });

  it('an asset filter selects a subset of the bitrate ladder in every format', async () => {
    for (const format of ['m3u8-cmaf', 'm3u8-aapl', 'mpd-time-cmaf', 'mpd-time-csf', undefined]) {
      const options = format ? `format=${format},filter=low` : 'filter=low';
      const manifest = await text(`${plain}/manifest(${options})`);
      assert.doesNotMatch(manifest, /800000/, `${format ?? 'smooth'}: no 800 kb/s rung`);
      assert.match(manifest, /300000/, `${format ?? 'smooth'}: the 300 kb/s rung`);
      assert.match(manifest, /aac_fre_2_96/, `${format ?? 'smooth'}: audio kept`);
    }
    // ffprobe follows the filtered HLS to the one video rendition.
    const probe = JSON.parse(
      (await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', `${plain}/manifest(format=m3u8-cmaf,filter=low)`], { encoding: 'utf8' }))
        .stdout,
    ) as { streams: Array<{ codec_type: string; width?: number }> };
    assert.deepEqual(
      probe.streams.filter((s) => s.codec_type === 'video').map((s) => s.width),
      [320],
    );
  });

  it('an account filter on the locator trims time; segments keep the unfiltered URLs', async () => {
    const unfilteredMaster = await text(`${plain}/manifest(format=m3u8-cmaf)`);
    const unfilteredPlaylistUrl = `${plain}/${uriLines(unfilteredMaster).find((l) => l.startsWith('QualityLevels(800000)'))}`;
    const unfilteredPlaylist = await text(unfilteredPlaylistUrl);
    assert.deepEqual(durationsOf(unfilteredPlaylist), [2, 2, 2]);

    for (const format of ['m3u8-cmaf', 'm3u8-aapl']) {
      const master = await text(`${trimmed}/manifest(format=${format})`);
      const variant = uriLines(master).find((l) => l.startsWith('QualityLevels(800000)'));
      assert.ok(variant, master);
      const playlist = await text(`${trimmed}/${variant}`);
      assert.deepEqual(durationsOf(playlist), [2, 2], `${format}: 2 s to 6 s`);
      if (format === 'm3u8-cmaf') {
        // The locator's filter is not in the URLs: the trimmed stream's first segment is the unfiltered second one.
        assert.equal(uriLines(playlist)[0], uriLines(unfilteredPlaylist)[1]);
        const first = await request(new URL(uriLines(playlist)[0], `${trimmed}/${variant}`).toString());
        const same = await request(new URL(uriLines(unfilteredPlaylist)[1], unfilteredPlaylistUrl).toString());
        assert.equal(first.status, 200);
        assert.ok(first.body.equals(same.body), 'the same segment bytes');
      }
      assert.ok(Math.abs((await probeDuration(`${trimmed}/manifest(format=${format})`)) - 4) < 0.3, `${format}: ffprobe sees 4 s`);
    }
    const mpd = await text(`${trimmed}/manifest(format=mpd-time-cmaf)`);
    const mpdDuration = Number(/mediaPresentationDuration="PT([\d.]+)S"/.exec(mpd)?.[1]);
    assert.ok(Math.abs(mpdDuration - 4) < 0.1, `MPD duration ${mpdDuration} s`);
    assert.match(mpd, /<S t="25600" d="25600" r="1"\/>/, 'the 800 kb/s video keeps its 2 s and 4 s segments (timescale 12800)');
    assert.ok(Math.abs((await probeDuration(`${trimmed}/manifest(format=mpd-time-cmaf)`)) - 4) < 0.3);
    // The side-loaded WebVTT as DASH serves it: cue times in the clip's Period (it starts at media time 2 s), so
    // cue 2 (media 2.0–3.5 s) shows with the clip's first frame and cue 1 (before the clip) is gone.
    const vttUrl = /contentType="text" mimeType="text\/vtt"[\s\S]*?<BaseURL>([^<]+)<\/BaseURL>/.exec(mpd)?.[1];
    assert.ok(vttUrl, mpd);
    const dashVtt = await text(new URL(vttUrl.replace(/&amp;/g, '&'), `${trimmed}/manifest(format=mpd-time-cmaf)`).toString());
    assert.doesNotMatch(dashVtt, /Cue 1/);
    assert.match(dashVtt, /00:00:00\.000 --> 00:00:01\.500\nCue 2/);
    assert.match(dashVtt, /00:00:02\.000 --> 00:00:03\.500\nCue 3/);
    // HLS keeps media times (its X-TIMESTAMP-MAP places them): the same file, unshifted.
    const hlsMaster = await text(`${trimmed}/manifest(format=m3u8-cmaf)`);
    const subsPlaylistUri = /TYPE=SUBTITLES[^\n]*URI="([^"]+)"/.exec(hlsMaster)?.[1];
    assert.ok(subsPlaylistUri, hlsMaster);
    const subsPlaylistUrl = new URL(subsPlaylistUri, `${trimmed}/manifest(format=m3u8-cmaf)`).toString();
    const hlsVtt = await text(new URL(uriLines(await text(subsPlaylistUrl))[0], subsPlaylistUrl).toString());
    assert.match(hlsVtt, /00:00:02\.000 --> 00:00:03\.500\nCue 2/);
    const smooth = await text(`${trimmed}/manifest`);
    const chunks = /<StreamIndex[^>]*Type="video"[^>]*Chunks="(\d+)"/.exec(smooth);
    assert.equal(chunks?.[1], '2', smooth.slice(0, 600));
  });

  it('a trimmed stream carries exactly the source samples of its range (per-sample hashes, video and audio)', async () => {
    const master = await text(`${trimmed}/manifest(format=m3u8-cmaf)`);
    const variant = uriLines(master).find((l) => l.startsWith('QualityLevels(800000)'));
    const audio = /TYPE=AUDIO[^\n]*LANGUAGE="en[^\n]*URI="([^"]+)"/.exec(master)?.[1];
    assert.ok(variant && audio, master);
    const source = path.join(ladder.dir, 'clip_640x360_800.mp4');
    const sourceVideo = await packetHashes(source, 'v:0');
    const clipVideo = await packetHashes(`${trimmed}/${variant}`, 'v:0');
    // The clip is the segments of 2 s…6 s: every source frame presented in that range, nothing else, same bytes.
    const inRange = (p: { pts: number }) => p.pts >= 2 - 1e-3 && p.pts < 6 - 1e-3;
    assert.equal(clipVideo.length, sourceVideo.filter(inRange).length);
    assert.ok(clipVideo.length >= 95, `${clipVideo.length} video frames`);
    const byPts = (list: Array<{ pts: number; hash: string }>) => new Map(list.map((p) => [p.pts.toFixed(3), p.hash]));
    assert.deepEqual(byPts(clipVideo), byPts(sourceVideo.filter(inRange)));

    const sourceAudio = await packetHashes(path.join(ladder.dir, 'clip_AACAudio_eng_128.mp4'), 'a:0');
    const clipAudio = await packetHashes(`${trimmed}/${audio}`, 'a:0');
    // Audio segments end where the video's do, to the AAC frame: compare the frames the clip holds with the
    // source's frames at the same times.
    const sourceByPts = byPts(sourceAudio);
    assert.ok(clipAudio.length > 150, `${clipAudio.length} audio frames`);
    for (const p of clipAudio) assert.equal(sourceByPts.get(p.pts.toFixed(3)), p.hash, `audio frame at ${p.pts} s`);
    assert.ok(clipAudio[0].pts >= 1.9 && clipAudio[0].pts <= 2.05, `audio starts at ${clipAudio[0].pts} s`);
  });

  it("combines the locator's account filter with the URL's asset filters", async () => {
    const master = await text(`${trimmed}/manifest(format=m3u8-cmaf,filter=english;low)`);
    assert.doesNotMatch(master, /aac_fre_2_96|QualityLevels\(800000\)/);
    const variant = uriLines(master).find((l) => l.startsWith('QualityLevels(300000)'));
    assert.ok(variant, master);
    assert.match(variant, /,filter=english;low\)/);
    const playlist = await text(`${trimmed}/${variant}`);
    assert.deepEqual(durationsOf(playlist), [2, 2]);
    // The segments of a filtered playlist are the unfiltered ones (the filter option aside), and are served.
    const plainPlaylist = await text(`${plain}/QualityLevels(300000)/Manifest(video,format=m3u8-cmaf)`);
    assert.equal(unfiltered(uriLines(playlist)[0]), uriLines(plainPlaylist)[1]);
    const segment = await request(new URL(uriLines(playlist)[0], `${trimmed}/${variant}`).toString());
    assert.equal(segment.status, 200);
    // Segment requests are not filtered: a track the URL's filter excludes is still served (as AMS does).
    const fre = await request(`${plain}/QualityLevels(96000)/Fragments(aac_fre_2_96=i,format=m3u8-cmaf,filter=english)`);
    assert.equal(fre.status, 200);
  });

  it('refuses unknown filters (404), more than three (400) and filters that leave nothing', async () => {
    const unknown = await request(`${plain}/manifest(format=m3u8-cmaf,filter=english;nope)`);
    assert.equal(unknown.status, 404);
    const body = JSON.parse(unknown.body.toString()) as { error: { code: string; detail: string } };
    assert.match(body.error.detail, /nope/);
    assert.equal(unknown.headers['access-control-allow-origin'], '*');
    assert.equal((await request(`${plain}/QualityLevels(128000)/Manifest(aac_eng_2_128,format=m3u8-cmaf,filter=nope)`)).status, 404);
    // Three on the URL pass; the locator's one makes four.
    assert.equal((await request(`${plain}/manifest(format=mpd-time-cmaf,filter=english;low;middle)`)).status, 200);
    const four = await request(`${trimmed}/manifest(format=mpd-time-cmaf,filter=english;low;nothing)`);
    assert.equal(four.status, 400);
    assert.match((JSON.parse(four.body.toString()) as { error: { detail: string } }).error.detail, /at most 3/);
    assert.equal((await request(`${plain}/manifest(filter=a;b;c;d)`)).status, 400);
    const nothing = await request(`${plain}/manifest(format=m3u8-cmaf,filter=nothing)`);
    assert.equal(nothing.status, 400, nothing.body.toString());
    assert.equal((JSON.parse(nothing.body.toString()) as { error: { code: string } }).error.code, 'FilterSelectsNoTracks');
  });

  it("refuses an asset filter whose timestamps fall beyond the asset's media, naming the field, and saves nothing", async () => {
    const put = (name: string, range: Record<string, number>) =>
      api.put(`${V}/assets/ladder/assetFilters/${name}`, { properties: { presentationTimeRange: { timescale: 1000, ...range } } });
    const late = await put('late', { startTimestamp: 7000 });
    assert.equal(late.status, 400, late.text);
    assert.match(late.body.error.detail, /presentationTimeRange\.startTimestamp is beyond the asset/);
    const long = await put('long', { startTimestamp: 1000, endTimestamp: 9000 });
    assert.equal(long.status, 400, long.text);
    assert.match(long.body.error.detail, /presentationTimeRange\.endTimestamp is beyond the asset: the asset's media lasts 6\.\d+ s/);
    for (const name of ['late', 'long']) assert.equal((await api.get(`${V}/assets/ladder/assetFilters/${name}`)).status, 404);
    // Inside the media (the end within AMS's rounding of the last frame) it is saved; account filters name no asset.
    const inside = await put('inside', { startTimestamp: 2000, endTimestamp: 6000 });
    assert.equal(inside.status, 201, inside.text);
    assert.equal((await api.delete(`${V}/assets/ladder/assetFilters/inside`)).status, 200);
  });

  it('serves an edited filter within a few seconds, with a new ETag', async () => {
    const url = `${plain}/manifest(format=m3u8-cmaf,filter=low)`;
    const before = await request(url);
    assert.doesNotMatch(before.body.toString(), /QualityLevels\(800000\)/);
    // Asked again (the hot path) before the edit.
    assert.equal((await request(url)).body.toString(), before.body.toString());
    await putAssetFilter('low', { tracks: [{ trackSelections: [{ property: 'Bitrate', operation: 'NotEqual', value: '0-500000' }] }] });
    let after = before;
    for (let i = 0; i < 300 && !/QualityLevels\(800000\)/.test(after.body.toString()); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await request(url);
    }
    assert.match(after.body.toString(), /QualityLevels\(800000\)/, 'the edited filter is applied');
    assert.doesNotMatch(after.body.toString(), /QualityLevels\(300000\)/);
    assert.notEqual(after.headers.etag, before.headers.etag);
    assert.equal((await request(url, { headers: { 'if-none-match': String(before.headers.etag) } })).status, 200, 'the old ETag no longer validates');
  });
});

describe('filtered playback in the separate origin processes', () => {
  let server: TestServer;
  const V = '/api/v1/projects/default/media';
  const ladder = makeLadder();
  const id = '5c0ffee0-1515-4222-8333-000000000003';

  before(async () => {
    server = await startTestServer('sqlite', { REEL_ORIGIN_PROCESSES: '2' });
    const cookie = await login(server.url, server.adminEmail, server.adminPassword);
    const api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, cookie)).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
    fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);
    const low = await api.put(`${V}/assets/ladder/assetFilters/low`, {
      properties: { tracks: [{ trackSelections: [{ property: 'Bitrate', operation: 'Equal', value: '0-500000' }] }] },
    });
    assert.equal(low.status, 201, JSON.stringify(low.body));
    const acct = await api.put(`${V}/accountFilters/middle`, { properties: { presentationTimeRange: { startTimestamp: 2, endTimestamp: 6, timescale: 1 } } });
    assert.equal(acct.status, 201, JSON.stringify(acct.body));
    const locator = { assetName: 'ladder', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: id, filters: ['middle'] };
    assert.equal((await api.put(`${V}/streamingLocators/ladder`, { properties: locator })).status, 201);
  });
  after(async () => {
    await server?.close();
  });

  it('answers filtered manifests on the origin port as the main port does, and refuses unknown filters the same way', async () => {
    for (const p of [
      `/${id}/clip.ism/manifest(format=m3u8-cmaf,filter=low)`,
      `/${id}/clip.ism/QualityLevels(300000)/Manifest(video,format=m3u8-cmaf,filter=low)`,
      `/${id}/clip.ism/manifest(format=mpd-time-cmaf,filter=low)`,
      `/${id}/clip.ism/manifest(filter=low)`,
    ]) {
      const [main, origin] = await Promise.all([server.reel.url, server.reel.originUrl].map((base) => request(`${base}${p}`)));
      assert.equal(origin.status, 200, `${p}: ${origin.body.toString()}`);
      assert.ok(origin.body.equals(main.body), `${p}: same bytes`);
      assert.equal(origin.headers.etag, main.headers.etag, `${p}: same ETag`);
      assert.doesNotMatch(origin.body.toString(), /800000/, p);
    }
    const playlist = (
      await request(`${server.reel.originUrl}/${id}/clip.ism/QualityLevels(300000)/Manifest(video,format=m3u8-cmaf,filter=low)`)
    ).body.toString();
    assert.deepEqual(durationsOf(playlist), [2, 2], "the locator's account filter applies there too");
    const unknown = await request(`${server.reel.originUrl}/${id}/clip.ism/manifest(format=m3u8-cmaf,filter=nope)`);
    assert.equal(unknown.status, 404);
  });
});

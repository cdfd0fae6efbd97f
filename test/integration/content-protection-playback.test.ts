/**
 * Content protection end to end through the running server, on SQLite and PostgreSQL: policies and locators
 * made over the API, manifests and segments fetched as a player would (from the manifests), decrypted with the
 * keys `listContentKeys` gives (the independent CENC/CBCS reader, ffmpeg's `-decryption_key`, node:crypto for
 * AES-128) and compared with the same asset's clear locator; signalling, key delivery's token checks, migrated
 * keys, isolation between locators, bad playback input and the origin processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { XMLValidator } from 'fast-xml-parser';
import crypto, { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { dialects, startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { makeLadder } from '../fixtures/media.js';
import { boxes, box } from '../fixtures/mux-media.js';
import { decryptSegment, readProtection, type TrackProtection } from '../fixtures/cenc-decryptor.js';
import {
  COMMON_SYSTEM_ID,
  PLAYREADY_SYSTEM_ID,
  WIDEVINE_SYSTEM_ID,
  decodeWidevinePsshData,
  parseHlsKey,
  readPlayReadyObject,
  readPssh,
  type HlsKey,
} from '../support/drm-signalling.js';
import {
  audience,
  issuer,
  rsaPair,
  rsaTokenKey,
  signJwt,
  signSwt,
  symmetricKey,
  symmetricTokenKey,
  tokenRestriction,
  x509Pair,
  x509TokenKey,
} from '../support/token-keys.js';
import { contentKeyIdentifierClaim } from '../../src/shared/content-protection.js';

type Json = Record<string, any>;
const T = {
  clearKey: '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration',
  widevine: '#Microsoft.Media.ContentKeyPolicyWidevineConfiguration',
  open: '#Microsoft.Media.ContentKeyPolicyOpenRestriction',
};
const fourcc = (value: string) => ({ trackSelections: [{ property: 'FourCC', operation: 'Equal', value }] });
const all = { download: false, dash: true, hls: true, smoothStreaming: true };
const noSmooth = { ...all, smoothStreaming: false };

/** One rendition as a player finds it in a manifest: its init segment (fMP4), media segments and protection signals. */
interface PlayerTrack {
  kind: 'video' | 'audio' | 'text';
  name: string;
  init?: string;
  media: string[];
  /** DASH `cenc:default_KID`, HLS `EXT-X-KEY`s. */
  defaultKid?: string;
  licenceUrls: string[];
  keys: HlsKey[];
}

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
const hex = (id: string) => id.replace(/-/g, '').toLowerCase();
const b64url = (id: string) => Buffer.from(hex(id), 'hex').toString('base64url');

async function bytesOf(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `${url}: ${body.toString().slice(0, 300)}`);
  return body;
}
const textOf = async (url: string) => (await bytesOf(url)).toString();

/** The tracks of a DASH manifest: SegmentTemplate + SegmentTimeline expanded, ContentProtection read per set or Representation. */
function dashTracks(mpd: string, manifestUrl: string): PlayerTrack[] {
  assert.equal(XMLValidator.validate(mpd), true, 'the MPD is well-formed XML');
  const out: PlayerTrack[] = [];
  for (const set of mpd.matchAll(/<AdaptationSet([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)) {
    const kind = /contentType="(\w+)"/.exec(set[1])![1] as PlayerTrack['kind'];
    const head = set[2].split('<Representation')[0];
    for (const rep of set[2].matchAll(/<Representation([^>]*)>([\s\S]*?)<\/Representation>/g)) {
      const protection = /<ContentProtection/.test(rep[2]) ? rep[2] : head;
      const defaultKid = /cenc:default_KID="([^"]+)"/.exec(protection)?.[1];
      const licenceUrls = [...protection.matchAll(/<dashif:Laurl>([^<]+)<\/dashif:Laurl>/g)].map((m) => m[1].replace(/&amp;/g, '&'));
      const bandwidth = /bandwidth="(\d+)"/.exec(rep[1])![1];
      const template = /<SegmentTemplate[^>]*initialization="([^"]+)" media="([^"]+)"/.exec(rep[2]);
      if (!template) continue; // side-loaded text (BaseURL)
      const fill = (t: string, time?: number) =>
        new URL(t.replace('$Bandwidth$', bandwidth).replace('$Time$', String(time)).replace(/&amp;/g, '&'), manifestUrl).toString();
      const media: string[] = [];
      let time = 0;
      for (const s of rep[2].matchAll(/<S( t="(\d+)")? d="(\d+)"( r="(\d+)")?\/>/g)) {
        if (s[2] !== undefined) time = Number(s[2]);
        for (let i = 0; i <= Number(s[5] ?? 0); i++, time += Number(s[3])) media.push(fill(template[2], time));
      }
      out.push({ kind, name: /id="([^"]+)"/.exec(rep[1])![1], init: fill(template[1]), media, defaultKid, licenceUrls, keys: [] });
    }
  }
  return out;
}

/** The renditions of an HLS master playlist (variants and EXT-X-MEDIA), each media playlist read. */
async function hlsTracks(masterUrl: string): Promise<{ master: string; tracks: PlayerTrack[] }> {
  const master = await textOf(masterUrl);
  const playlists = new Map<string, PlayerTrack['kind']>();
  for (const m of master.matchAll(/#EXT-X-MEDIA:TYPE=(AUDIO|SUBTITLES),.*URI="([^"]+)"/g)) playlists.set(m[2], m[1] === 'AUDIO' ? 'audio' : 'text');
  const lines = master.split('\n');
  lines.forEach((l, i) => {
    if (l.startsWith('#EXT-X-STREAM-INF') && /RESOLUTION=/.test(l)) playlists.set(lines[i + 1], 'video');
  });
  const tracks: PlayerTrack[] = [];
  for (const [uri, kind] of playlists) {
    const url = new URL(uri, masterUrl).toString();
    const playlist = await textOf(url);
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
    const keys = [...playlist.matchAll(/#EXT-X-KEY:(.*)/g)].map((m) => parseHlsKey(m[1]));
    const media = playlist
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => new URL(l, url).toString());
    tracks.push({ kind, name: uri, ...(map ? { init: new URL(map, url).toString() } : {}), media, licenceUrls: [], keys });
  }
  return { master, tracks };
}

/** The streams of a Smooth manifest, their fragment URLs from `c` entries; the PlayReady header's key ids. */
function smoothTracks(manifest: string, manifestUrl: string): { tracks: PlayerTrack[]; playReadyKids: string[] } {
  const header = /<ProtectionHeader SystemID="([^"]+)">([^<]+)<\/ProtectionHeader>/.exec(manifest);
  const playReadyKids = header ? readPlayReadyObject(Buffer.from(header[2], 'base64')).keys.map((k) => k.keyId) : [];
  if (header) assert.equal(header[1].toLowerCase(), PLAYREADY_SYSTEM_ID);
  const tracks: PlayerTrack[] = [];
  for (const s of manifest.matchAll(/<StreamIndex Type="(\w+)" Name="([^"]+)"[^>]*Url="([^"]+)"[^>]*>([\s\S]*?)<\/StreamIndex>/g)) {
    const bitrates = [...s[4].matchAll(/Bitrate="(\d+)"/g)].map((m) => m[1]);
    const times: number[] = [];
    let time = 0;
    for (const c of s[4].matchAll(/<c( t="(\d+)")? d="(\d+)"( r="(\d+)")?\/>/g)) {
      if (c[2] !== undefined) time = Number(c[2]);
      for (let i = 0; i < Number(c[5] ?? 1); i++, time += Number(c[3])) times.push(time);
    }
    for (const bitrate of bitrates)
      tracks.push({
        kind: s[1] as PlayerTrack['kind'],
        name: `${s[2]}-${bitrate}`,
        media: times.map((t) => new URL(s[3].replace('{bitrate}', bitrate).replace('{start time}', String(t)), manifestUrl).toString()),
        licenceUrls: [],
        keys: [],
      });
  }
  return { tracks, playReadyKids };
}

/** The sample payloads of a (clear) fMP4 media segment, read from `trun` and `mdat`. */
function clearSamples(segment: Uint8Array): Buffer[] {
  const top = boxes(segment);
  const traf = boxes(top.find((b) => b.type === 'moof')!.body).find((b) => b.type === 'traf')!;
  const trunBox = boxes(traf.body).find((b) => b.type === 'trun')!.body;
  const trun = new DataView(trunBox.buffer, trunBox.byteOffset, trunBox.byteLength);
  const flags = trun.getUint32(0) & 0xffffff;
  let at = 8 + (flags & 1 ? 4 : 0) + (flags & 4 ? 4 : 0);
  const mdat = top.find((b) => b.type === 'mdat')!.body;
  const out: Buffer[] = [];
  let data = 0;
  for (let i = 0; i < trun.getUint32(4); i++) {
    if (flags & 0x100) at += 4;
    const size = trun.getUint32(at);
    at += 4 + (flags & 0x400 ? 4 : 0) + (flags & 0x800 ? 4 : 0);
    out.push(Buffer.from(mdat.subarray(data, data + size)));
    data += size;
  }
  return out;
}

/** The sample entry type of an init segment (`encv`/`enca` when protected). */
const entryType = (init: Uint8Array) => boxes(box(init, 'moov/trak/mdia/minf/stbl/stsd').body.subarray(8))[0].type;

/** HLS AES-128: the whole segment in AES-128-CBC with PKCS#7, IV = media sequence number (RFC 8216 §5.2). */
function aes128Decrypt(segment: Buffer, key: Buffer, sequence: number): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(sequence, 12);
  const decipher = crypto.createDecipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([decipher.update(segment), decipher.final()]);
}

/** ffmpeg's frame hashes of an fMP4 stream fed through a pipe (ffmpeg 5.1 misreads seekable multi-fragment files). */
function ffmpegFrames(bytes: Buffer, key?: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const args = ['-v', 'error', ...(key ? ['-decryption_key', key.toString('hex')] : []), '-i', 'pipe:0', '-map', '0', '-f', 'framemd5', '-'];
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`ffmpeg ${code}: ${err}`));
      else
        resolve(
          out
            .split('\n')
            .filter((l) => l && !l.startsWith('#'))
            .map((l) => l.split(',').pop()!.trim()),
        );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(bytes);
  });
}

function assertErrorBody(text: string, status: number, code?: string): void {
  const body = JSON.parse(text) as { error: { code: string; detail: string }; status: number };
  assert.equal(body.status, status, text);
  assert.equal(typeof body.error.detail, 'string');
  if (code) assert.equal(body.error.code, code, text);
}

for (const dialect of dialects) {
  describe(`content protection playback on ${dialect}`, () => {
    let server: TestServer;
    let api: ApiClient;
    const V = '/api/v1/projects/default/media';
    const ladder = makeLadder();
    const ids = {
      enc: 'e0000001-0000-4000-8000-000000000001',
      other: 'e0000001-0000-4000-8000-000000000002',
      clear: 'e0000001-0000-4000-8000-000000000003',
      migrated: 'e0000001-0000-4000-8000-000000000004',
      templated: 'e0000001-0000-4000-8000-000000000005',
      cencOnly: 'e0000001-0000-4000-8000-000000000006',
      ckOnly: 'e0000001-0000-4000-8000-000000000007',
      drmOnly: 'e0000001-0000-4000-8000-000000000008',
    };
    /** listContentKeys of each locator, by type. */
    const keysOf = new Map<string, Map<string, { id: string; value: Buffer }>>();
    const key = (locator: string, type: string) => keysOf.get(locator)!.get(type)!;
    const manifest = (locator: string, options: string) => `${server.url}/${ids[locator as keyof typeof ids]}/clip.ism/manifest${options}`;
    /** The clear locator's URL for the same segment. */
    const clearUrl = (url: string, locator: string) =>
      url
        .replace(ids[locator as keyof typeof ids], ids.clear)
        .replace(/,encryption=[a-z-]+/, '')
        .replace(/\(encryption=[a-z-]+\)/, '');

    const listKeys = async (name: string) => {
      const res = await api.post(`${V}/streamingLocators/${name}/listContentKeys`);
      assert.equal(res.status, 200, res.text);
      return res.body.contentKeys as Json[];
    };
    const putLocator = async (name: string, policy: string, extra: Json = {}) => {
      const res = await api.put(`${V}/streamingLocators/${name}`, {
        properties: { assetName: 'ladder', streamingPolicyName: policy, streamingLocatorId: ids[name as keyof typeof ids], ...extra },
      });
      assert.equal(res.status, 201, res.text);
      keysOf.set(name, new Map((await listKeys(name)).map((k) => [k.type, { id: k.id, value: Buffer.from(k.value, 'base64') }])));
    };

    before(async () => {
      server = await startTestServer(dialect, { REEL_ORIGIN_PROCESSES: '2', REEL_LOG_LEVEL: 'info' });
      api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token);
      const root = path.join(server.localArea(), 'vod');
      fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
      for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
      fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
      assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
      assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);
      const policy = async (name: string, configuration: Json, restriction: Json) =>
        assert.equal((await api.put(`${V}/contentKeyPolicies/${name}`, { properties: { options: [{ name, configuration, restriction }] } })).status, 201);
      await policy('open', { '@odata.type': T.clearKey }, { '@odata.type': T.open });
      await policy('drm-only', { '@odata.type': T.widevine, widevineTemplate: '{}' }, { '@odata.type': T.open });
      const streaming = async (name: string, properties: Json) => {
        const res = await api.put(`${V}/streamingPolicies/${name}`, { properties }, { checkRequest: false });
        assert.equal(res.status, 201, res.text);
      };
      // Every scheme, audio clear under CENC (clearTracks), as AMS users set it up.
      await streaming('all', {
        defaultContentKeyPolicyName: 'open',
        envelopeEncryption: { enabledProtocols: noSmooth },
        commonEncryptionCenc: { enabledProtocols: all, clearTracks: [fourcc('mp4a')] },
        commonEncryptionCbcs: { enabledProtocols: noSmooth },
      });
      await streaming('cenc-only', { defaultContentKeyPolicyName: 'open', commonEncryptionCenc: { enabledProtocols: all } });
      await streaming('templated', {
        defaultContentKeyPolicyName: 'open',
        envelopeEncryption: { enabledProtocols: noSmooth, customKeyAcquisitionUrlTemplate: 'https://keys.example/{AlternativeMediaId}/aes/{ContentKeyId}' },
        commonEncryptionCenc: {
          enabledProtocols: noSmooth,
          clearKeyEncryptionConfiguration: { customKeysAcquisitionUrlTemplate: 'https://ck.example/{AlternativeMediaId}/licence?kid={ContentKeyId}' },
          drm: { widevine: { customLicenseAcquisitionUrlTemplate: 'https://wv.example/{AlternativeMediaId}/{ContentKeyId}' } },
        },
      });
      // CENC keys whose content key policy has a ClearKey option, and none: ClearKey signalled and listed only for the first.
      await streaming('ck-by-key', { defaultContentKeyPolicyName: 'open', commonEncryptionCenc: { enabledProtocols: noSmooth } });
      await streaming('drm-by-key', {
        defaultContentKeyPolicyName: 'drm-only',
        envelopeEncryption: { enabledProtocols: noSmooth },
        commonEncryptionCenc: { enabledProtocols: noSmooth },
      });
      await putLocator('enc', 'all');
      await putLocator('other', 'all');
      await putLocator('clear', 'Predefined_ClearStreamingOnly');
      await putLocator('templated', 'templated', { alternativeMediaId: 'title 7' });
      await putLocator('cencOnly', 'cenc-only');
      await putLocator('ckOnly', 'ck-by-key');
      await putLocator('drmOnly', 'drm-by-key');
      // An account filter for the protected clips: 2 s…6 s of the 6 s ladder (its keyframes are 2 s apart).
      const middle = await api.put(`${V}/accountFilters/middle`, {
        properties: { presentationTimeRange: { startTimestamp: 20_000_000, endTimestamp: 60_000_000, timescale: 10_000_000 } },
      });
      assert.equal(middle.status, 201, middle.text);
    });
    after(async () => {
      await server?.close();
    });

    /**
     * Every encrypted track of `tracks` decrypts, segment by segment, to the clear locator's samples with the
     * `type` key of `locator`; clear tracks equal the clear locator's bytes. Returns the tracks checked.
     */
    async function assertDecryptsToClear(locator: string, tracks: PlayerTrack[], type: string, scheme: 'cenc' | 'cbcs', clearKinds: string[] = []) {
      const k = key(locator, type);
      for (const track of tracks.filter((t) => t.kind !== 'text')) {
        const init = track.init ? await bytesOf(track.init) : undefined;
        if (clearKinds.includes(track.kind)) {
          assert.ok(init && ['mp4a', 'avc1'].includes(entryType(init)), `${track.name}: clear sample entry`);
          assert.equal(track.defaultKid, undefined, `${track.name}: no default_KID on a clear track`);
          for (const url of track.media) assert.ok((await bytesOf(url)).equals(await bytesOf(clearUrl(url, locator))), `${url}: clear bytes`);
          continue;
        }
        let protection: TrackProtection;
        if (init) {
          protection = readProtection(init);
          assert.equal(entryType(init), track.kind === 'video' ? 'encv' : 'enca');
          assert.equal(protection.originalFormat, track.kind === 'video' ? 'avc1' : 'mp4a');
          assert.equal(protection.psshSystemIds.includes(hex(COMMON_SYSTEM_ID)), true, 'W3C common pssh in the init segment');
        } else
          protection = {
            scheme: 'cenc',
            originalFormat: '',
            entryType: '',
            keyId: hex(k.id),
            perSampleIvSize: 8,
            cryptBlocks: 0,
            skipBlocks: 0,
            tencVersion: 0,
            psshSystemIds: [],
          };
        assert.equal(protection.scheme, scheme, track.name);
        assert.equal(protection.keyId, hex(k.id), `${track.name}: tenc KID is the listed key`);
        if (track.defaultKid) assert.equal(track.defaultKid, k.id, `${track.name}: default_KID`);
        if (scheme === 'cbcs') assert.deepEqual([protection.cryptBlocks, protection.skipBlocks], track.kind === 'video' ? [1, 9] : [0, 0]);
        for (const url of track.media) {
          const [encrypted, clear] = await Promise.all([bytesOf(url), bytesOf(clearUrl(url, locator))]);
          const expected = clearSamples(clear);
          assert.notEqual(sha(Buffer.concat(clearSamples(encrypted))), sha(Buffer.concat(expected)), `${url}: samples are encrypted`);
          const decrypted = decryptSegment(encrypted, protection, k.value).map((s) => sha(s.bytes));
          assert.deepEqual(decrypted, expected.map(sha), `${url}: decrypts to the clear samples`);
        }
      }
    }

    /** ffmpeg decrypts the video track with the key and decodes the same frames as the clear one. */
    async function assertFfmpegDecrypts(track: PlayerTrack, locator: string, keyValue: Buffer) {
      const join = async (urls: string[]) => Buffer.concat(await Promise.all(urls.map((u) => bytesOf(u))));
      const encrypted = await join([track.init!, ...track.media]);
      const clear = await join([clearUrl(track.init!, locator), ...track.media.map((u) => clearUrl(u, locator))]);
      const expected = await ffmpegFrames(clear);
      assert.equal(expected.length, 150);
      assert.deepEqual(await ffmpegFrames(encrypted, keyValue), expected);
    }

    it('CENC DASH (mpd-time-cmaf and mpd-time-csf) decrypts to the clear samples, audio clear by clearTracks, ClearKey signalled', async () => {
      const k = key('enc', 'CommonEncryptionCenc');
      for (const format of ['mpd-time-cmaf', 'mpd-time-csf']) {
        const url = manifest('enc', `(format=${format},encryption=cenc)`);
        const mpd = await textOf(url);
        assert.match(mpd, new RegExp(`schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="${k.id}"`));
        const tracks = dashTracks(mpd, url);
        assert.deepEqual(
          tracks.map((t) => t.kind),
          ['video', 'video', 'audio', 'audio'],
        );
        for (const t of tracks.filter((t) => t.kind === 'video'))
          assert.deepEqual(t.licenceUrls, [`${server.url}/keydelivery/${ids.enc}/clearkey`], 'ClearKey licence at Reel');
        await assertDecryptsToClear('enc', tracks, 'CommonEncryptionCenc', 'cenc', ['audio']);
        if (format === 'mpd-time-cmaf') await assertFfmpegDecrypts(tracks[0], 'enc', k.value);
      }
      // The licence server gives the key of the manifest's KID, as a ClearKey CDM asks for it.
      const licence = await fetch(`${server.url}/keydelivery/${ids.enc}/clearkey`, {
        method: 'POST',
        body: JSON.stringify({ kids: [b64url(k.id)], type: 'temporary' }),
      });
      assert.equal(licence.status, 200);
      assert.deepEqual((await licence.json()).keys, [{ kty: 'oct', kid: b64url(k.id), k: k.value.toString('base64url') }]);
    });

    it('CENC HLS-CMAF decrypts to the clear samples with the key its EXT-X-KEY points at; subtitles stay clear', async () => {
      const k = key('enc', 'CommonEncryptionCenc');
      const { master, tracks } = await hlsTracks(manifest('enc', '(format=m3u8-cmaf,encryption=cenc)'));
      const session = /#EXT-X-SESSION-KEY:(.*)/.exec(master);
      assert.ok(session, master);
      assert.equal(parseHlsKey(session[1]).uri, `${server.url}/keydelivery/${ids.enc}/aes/${k.id}`);
      for (const t of tracks.filter((t) => t.kind === 'video')) {
        assert.deepEqual(
          t.keys.map((x) => [x.method, x.keyFormat, x.uri]),
          [['SAMPLE-AES-CTR', 'identity', `${server.url}/keydelivery/${ids.enc}/aes/${k.id}`]],
        );
        assert.ok((await bytesOf(t.keys[0].uri)).equals(k.value), 'the key URL gives the listed key');
      }
      for (const t of tracks.filter((t) => t.kind !== 'video')) assert.deepEqual(t.keys, [], `${t.name}: clear`);
      await assertDecryptsToClear('enc', tracks, 'CommonEncryptionCenc', 'cenc', ['audio']);
      const text = tracks.find((t) => t.kind === 'text')!;
      assert.match((await bytesOf(text.media[0])).toString(), /^WEBVTT/);
      assert.ok((await bytesOf(text.media[0])).equals(await bytesOf(clearUrl(text.media[0], 'enc'))));
    });

    it('CENC Smooth decrypts to the clear samples; its PlayReady header names the listed key', async () => {
      const k = key('cencOnly', 'CommonEncryptionCenc');
      const url = manifest('cencOnly', '(encryption=cenc)');
      const { tracks, playReadyKids } = smoothTracks(await textOf(url), url);
      assert.deepEqual(playReadyKids, [k.id]);
      assert.deepEqual(
        tracks.map((t) => t.kind),
        ['video', 'video', 'audio', 'audio'],
      );
      await assertDecryptsToClear('cencOnly', tracks, 'CommonEncryptionCenc', 'cenc');
    });

    it('CBCS HLS-CMAF (cbcs-aapl) and DASH (cbcs) decrypt to the clear samples, pattern 1:9 on video', async () => {
      const k = key('enc', 'CommonEncryptionCbcs');
      const { tracks } = await hlsTracks(manifest('enc', '(format=m3u8-cmaf,encryption=cbcs-aapl)'));
      for (const t of tracks.filter((t) => t.kind !== 'text')) {
        assert.deepEqual(
          t.keys.map((x) => [x.method, x.uri]),
          [['SAMPLE-AES', `${server.url}/keydelivery/${ids.enc}/aes/${k.id}`]],
          t.name,
        );
      }
      await assertDecryptsToClear('enc', tracks, 'CommonEncryptionCbcs', 'cbcs');
      const dashUrl = manifest('enc', '(format=mpd-time-cmaf,encryption=cbcs)');
      const mpd = await textOf(dashUrl);
      assert.match(mpd, new RegExp(`value="cbcs" cenc:default_KID="${k.id}"`));
      const dash = dashTracks(mpd, dashUrl);
      await assertDecryptsToClear('enc', dash, 'CommonEncryptionCbcs', 'cbcs');
      await assertFfmpegDecrypts(dash[0], 'enc', k.value);
    });

    it('filters apply to protected streams: a CENC DASH and a CBCS HLS clip list only its segments, which decrypt to the clear clip', async () => {
      const dashUrl = manifest('enc', '(format=mpd-time-cmaf,encryption=cenc,filter=middle)');
      const mpd = await textOf(dashUrl);
      const duration = Number(/mediaPresentationDuration="PT([\d.]+)S"/.exec(mpd)?.[1]);
      assert.ok(Math.abs(duration - 4) < 0.1, `clip of ${duration} s`);
      const k = key('enc', 'CommonEncryptionCenc');
      assert.match(mpd, new RegExp(`cenc:default_KID="${k.id}"`));
      const dash = dashTracks(mpd, dashUrl);
      for (const t of dash) assert.equal(t.media.length, 2, `${t.name}: the clip's two segments`);
      await assertDecryptsToClear('enc', dash, 'CommonEncryptionCenc', 'cenc', ['audio']);
      // The clip's video segments are the unfiltered stream's second and third, byte for byte (one cache, one key).
      const whole = dashTracks(
        await textOf(manifest('enc', '(format=mpd-time-cmaf,encryption=cenc)')),
        manifest('enc', '(format=mpd-time-cmaf,encryption=cenc)'),
      );
      assert.ok((await bytesOf(dash[0].media[0])).equals(await bytesOf(whole[0].media[1])), 'same encrypted bytes as the unfiltered segment');

      const { tracks } = await hlsTracks(manifest('enc', '(format=m3u8-cmaf,encryption=cbcs-aapl,filter=middle)'));
      const video = tracks.filter((t) => t.kind === 'video');
      assert.ok(video.length > 0);
      for (const t of video) assert.equal(t.media.length, 2, `${t.name}: the clip's two segments`);
      await assertDecryptsToClear('enc', video, 'CommonEncryptionCbcs', 'cbcs');
    });

    it('AES-128 envelope on HLS TS and HLS CMAF: each segment decrypts to the clear one, byte for byte, with the key from the key URL', async () => {
      const k = key('enc', 'EnvelopeEncryption');
      for (const format of ['m3u8-aapl', 'm3u8-cmaf']) {
        const { master, tracks } = await hlsTracks(manifest('enc', `(format=${format},encryption=cbc)`));
        assert.doesNotMatch(master, /SESSION-KEY:METHOD=SAMPLE/);
        for (const t of tracks.filter((t) => t.kind !== 'text')) {
          assert.deepEqual(
            t.keys.map((x) => [x.method, x.keyFormat, x.uri, x.iv]),
            [['AES-128', 'identity', `${server.url}/keydelivery/${ids.enc}/aes/${k.id}`, undefined]],
            `${format} ${t.name}`,
          );
          const fetched = await bytesOf(t.keys[0].uri);
          assert.ok(fetched.equals(k.value), 'the key URL gives the listed envelope key');
          if (t.init) assert.ok((await bytesOf(t.init)).equals(await bytesOf(clearUrl(t.init, 'enc'))), 'the init segment is clear');
          for (const [sequence, url] of t.media.entries()) {
            const [encrypted, clear] = await Promise.all([bytesOf(url), bytesOf(clearUrl(url, 'enc'))]);
            assert.ok(!encrypted.equals(clear));
            assert.ok(aes128Decrypt(encrypted, fetched, sequence).equals(clear), `${url}: decrypts to the clear segment`);
          }
        }
        const text = tracks.find((t) => t.kind === 'text')!;
        assert.deepEqual(text.keys, []);
        assert.match((await bytesOf(text.media[0])).toString(), /^WEBVTT/);
      }
    });

    it('I-frame playlists of protected streams: AES-128 (TS, CMAF), CENC and CBCS keyframe fragments decrypt to the clear ones', async () => {
      const iFrames = async (locator: string, options: string) => {
        const masterUrl = manifest(locator, options);
        const master = await textOf(masterUrl);
        const uri = /#EXT-X-I-FRAME-STREAM-INF:[^\n]*URI="([^"]+)"/.exec(master)?.[1];
        assert.ok(uri, `${options}: an I-frame playlist is offered\n${master}`);
        const url = new URL(uri, masterUrl).toString();
        const playlist = await textOf(url);
        assert.match(playlist, /#EXT-X-I-FRAMES-ONLY/);
        const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
        const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
        const entries = playlist
          .split('\n')
          .filter((l) => l && !l.startsWith('#'))
          .map((l) => new URL(l, url).toString());
        assert.ok(entries.length >= 3, playlist);
        return { playlist, sequence, init: map ? new URL(map, url).toString() : undefined, entries };
      };
      const envelope = key('enc', 'EnvelopeEncryption');
      for (const format of ['m3u8-aapl', 'm3u8-cmaf']) {
        const { playlist, sequence, entries } = await iFrames('enc', `(format=${format},encryption=cbc)`);
        assert.match(playlist, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="${server.url}/keydelivery/${ids.enc}/aes/${envelope.id}"`));
        for (const [i, url] of entries.entries()) {
          const [encrypted, clear] = await Promise.all([bytesOf(url), bytesOf(clearUrl(url, 'enc'))]);
          assert.ok(!encrypted.equals(clear));
          // The implicit IV is the entry's media sequence number (RFC 8216 §5.2).
          assert.ok(aes128Decrypt(encrypted, envelope.value, sequence + i).equals(clear), `${format} ${url}: decrypts to the clear keyframe`);
        }
      }
      for (const [options, type, scheme] of [
        ['(format=m3u8-cmaf,encryption=cenc)', 'CommonEncryptionCenc', 'cenc'],
        ['(format=m3u8-cmaf,encryption=cbcs-aapl)', 'CommonEncryptionCbcs', 'cbcs'],
      ] as const) {
        const k = key('enc', type);
        const { init, entries } = await iFrames('enc', options);
        const protection = readProtection(await bytesOf(init!));
        assert.equal(protection.scheme, scheme);
        assert.equal(protection.keyId, hex(k.id));
        for (const url of entries) {
          const [encrypted, clear] = await Promise.all([bytesOf(url), bytesOf(clearUrl(url, 'enc'))]);
          const expected = clearSamples(clear);
          assert.equal(expected.length, 1, 'one keyframe');
          assert.notEqual(sha(clearSamples(encrypted)[0]), sha(expected[0]), `${url}: encrypted`);
          assert.deepEqual(
            decryptSegment(encrypted, protection, k.value).map((x) => sha(x.bytes)),
            expected.map(sha),
            `${options} ${url}: decrypts to the clear keyframe`,
          );
        }
      }
    });

    it('envelope on DASH (encryption=cbc) is CENC with the envelope key, signalled for ClearKey, audio included', async () => {
      const k = key('enc', 'EnvelopeEncryption');
      const url = manifest('enc', '(format=mpd-time-cmaf,encryption=cbc)');
      const tracks = dashTracks(await textOf(url), url);
      for (const t of tracks) {
        assert.equal(t.defaultKid, k.id);
        assert.deepEqual(t.licenceUrls, [`${server.url}/keydelivery/${ids.enc}/clearkey`]);
      }
      await assertDecryptsToClear('enc', tracks, 'EnvelopeEncryption', 'cenc');
    });

    it('points players at the policy templates with {ContentKeyId} and {AlternativeMediaId} filled in', async () => {
      const env = key('templated', 'EnvelopeEncryption');
      const cenc = key('templated', 'CommonEncryptionCenc');
      const { tracks } = await hlsTracks(manifest('templated', '(format=m3u8-aapl,encryption=cbc)'));
      assert.equal(tracks[0].keys[0].uri, `https://keys.example/title%207/aes/${env.id}`);
      const url = manifest('templated', '(format=mpd-time-cmaf,encryption=cenc)');
      const mpd = await textOf(url);
      const video = dashTracks(mpd, url).find((t) => t.kind === 'video')!;
      assert.deepEqual(video.licenceUrls, [`https://wv.example/title%207/${cenc.id}`, `https://ck.example/title%207/licence?kid=${cenc.id}`]);
      // The Widevine header in the MPD and in the init segment names the listed key; the W3C common PSSH too.
      const widevine = new RegExp(`<ContentProtection schemeIdUri="urn:uuid:${WIDEVINE_SYSTEM_ID}"[^>]*>[\\s\\S]*?<cenc:pssh>([^<]+)</cenc:pssh>`).exec(mpd);
      assert.ok(widevine, mpd);
      const fromMpd = readPssh(Buffer.from(widevine[1], 'base64'));
      assert.deepEqual(decodeWidevinePsshData(fromMpd.data).keyIds, [cenc.id]);
      assert.equal(decodeWidevinePsshData(fromMpd.data).protectionScheme, 'cenc');
      const init = await bytesOf(video.init!);
      const moov = box(init, 'moov').body;
      const inInit = boxes(moov)
        .filter((b) => b.type === 'pssh')
        .map((b) => readPssh(moov, b.offset));
      assert.deepEqual(
        inInit.map((p) => p.systemId),
        [WIDEVINE_SYSTEM_ID, COMMON_SYSTEM_ID],
      );
      assert.deepEqual(decodeWidevinePsshData(inInit[0].data).keyIds, [cenc.id]);
      assert.deepEqual(inInit[1].keyIds, [cenc.id]);
      assert.equal(readProtection(init).keyId, hex(cenc.id));
      // HLS CMAF: Widevine's EXT-X-KEY carries the same header; ClearKey's points at the template.
      const hls = await hlsTracks(manifest('templated', '(format=m3u8-cmaf,encryption=cenc)'));
      const hlsVideo = hls.tracks.find((t) => t.kind === 'video')!;
      assert.deepEqual(
        hlsVideo.keys.map((k) => [k.keyFormat, k.keyIds]),
        [
          [`urn:uuid:${WIDEVINE_SYSTEM_ID}`, [cenc.id]],
          ['identity', []],
        ],
      );
      const paths = (await api.post(`${V}/streamingLocators/templated/listPaths`)).body;
      assert.deepEqual(paths.drm, {
        widevine: { licenseAcquisitionUrl: 'https://wv.example/title%207/{ContentKeyId}' },
        clearKey: { licenseAcquisitionUrl: 'https://ck.example/title%207/licence?kid={ContentKeyId}' },
      });
    });

    it('lists ClearKey in listPaths exactly when Reel can deliver the key, as the manifests signal it', async () => {
      const drmOf = async (name: string) => (await api.post(`${V}/streamingLocators/${name}/listPaths`)).body.drm;
      // A CENC block without clearKeyEncryptionConfiguration, its key under a policy with a ClearKey option.
      assert.deepEqual(await drmOf('ckOnly'), { clearKey: { licenseAcquisitionUrl: `/keydelivery/${ids.ckOnly}/clearkey` } });
      assert.match(await textOf(manifest('ckOnly', '(format=mpd-time-cmaf)')), /value="ClearKey1.0"/);
      assert.deepEqual(await drmOf('cencOnly'), { clearKey: { licenseAcquisitionUrl: `/keydelivery/${ids.cencOnly}/clearkey` } });
      // Keys under a Widevine-only policy: Reel's licence server cannot give them, so no ClearKey in CENC manifests.
      assert.doesNotMatch(await textOf(manifest('drmOnly', '(format=mpd-time-cmaf,encryption=cenc)')), /ClearKey1.0/);
      const drmOnlyKey = key('drmOnly', 'CommonEncryptionCenc');
      const refused = await fetch(`${server.url}/keydelivery/${ids.drmOnly}/clearkey`, {
        method: 'POST',
        body: JSON.stringify({ kids: [b64url(drmOnlyKey.id)], type: 'temporary' }),
      });
      assert.equal(refused.status, 403);
    });

    it('keeps a migrated locator’s keys: listContentKeys gives them back and its streams decrypt with them', async () => {
      const given = {
        env: { id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', type: 'EnvelopeEncryption', value: randomBytes(16).toString('base64') },
        cenc: { id: '1B2C3D4E-5F60-4718-89AB-CDEF01234567', type: 'CommonEncryptionCenc', value: randomBytes(16).toString('base64') },
        cbcs: { id: '2c3d4e5f-6071-4829-9abc-def012345678', type: 'CommonEncryptionCbcs', value: randomBytes(16).toString('base64') },
      };
      await putLocator('migrated', 'all', { contentKeys: Object.values(given) });
      const listed = await listKeys('migrated');
      assert.deepEqual(
        listed.map((k) => [k.id, k.type, k.value]),
        Object.values(given).map((k) => [k.id.toLowerCase(), k.type, k.value]),
      );
      const url = manifest('migrated', '(format=mpd-time-cmaf,encryption=cenc)');
      const dash = dashTracks(await textOf(url), url);
      assert.equal(dash[0].defaultKid, given.cenc.id.toLowerCase());
      await assertDecryptsToClear('migrated', dash.slice(0, 1), 'CommonEncryptionCenc', 'cenc');
      const { tracks } = await hlsTracks(manifest('migrated', '(format=m3u8-aapl,encryption=cbc)'));
      const segment = tracks[0].media[1];
      assert.ok(aes128Decrypt(await bytesOf(segment), Buffer.from(given.env.value, 'base64'), 1).equals(await bytesOf(clearUrl(segment, 'migrated'))));
      const hls = await hlsTracks(manifest('migrated', '(format=m3u8-cmaf,encryption=cbcs-aapl)'));
      await assertDecryptsToClear('migrated', hls.tracks.slice(0, 1), 'CommonEncryptionCbcs', 'cbcs');
    });

    it('keeps locators apart: same asset, different keys, different bytes and ETags; each decrypts only with its own key', async () => {
      const path_ = 'clip.ism/QualityLevels(800000)/Fragments(video=25600,format=mpd-time-cmaf,encryption=cenc)';
      const init = 'clip.ism/QualityLevels(800000)/Fragments(video=i,format=mpd-time-cmaf,encryption=cenc)';
      const at = (locator: string, p: string) => `${server.url}/${ids[locator as keyof typeof ids]}/${p}`;
      // Warm the cache with one locator's segment, then ask for the other's and the clear one.
      const a = await fetch(at('enc', path_));
      const aBytes = Buffer.from(await a.arrayBuffer());
      const b = await fetch(at('other', path_));
      const bBytes = Buffer.from(await b.arrayBuffer());
      const clear = await fetch(at('clear', 'clip.ism/QualityLevels(800000)/Fragments(video=25600,format=mpd-time-cmaf)'));
      const clearBytes = Buffer.from(await clear.arrayBuffer());
      assert.ok(!aBytes.equals(bBytes));
      const etags = [a, b, clear].map((r) => r.headers.get('etag'));
      assert.equal(new Set(etags).size, 3, `ETags differ: ${etags.join(' ')}`);
      const expected = clearSamples(clearBytes).map(sha);
      const ka = key('enc', 'CommonEncryptionCenc');
      const kb = key('other', 'CommonEncryptionCenc');
      assert.notEqual(ka.id, kb.id);
      const pa = readProtection(await bytesOf(at('enc', init)));
      const pb = readProtection(await bytesOf(at('other', init)));
      assert.deepEqual([pa.keyId, pb.keyId], [hex(ka.id), hex(kb.id)]);
      assert.deepEqual(
        decryptSegment(aBytes, pa, ka.value).map((s) => sha(s.bytes)),
        expected,
      );
      assert.deepEqual(
        decryptSegment(bBytes, pb, kb.value).map((s) => sha(s.bytes)),
        expected,
      );
      assert.notDeepEqual(
        decryptSegment(aBytes, pa, kb.value).map((s) => sha(s.bytes)),
        expected,
      );
      assert.notDeepEqual(
        decryptSegment(bBytes, pb, ka.value).map((s) => sha(s.bytes)),
        expected,
      );
      // The clear locator stays clear after the encrypted ones were built (and the other way round).
      const clearInit = await bytesOf(at('clear', 'clip.ism/QualityLevels(800000)/Fragments(video=i,format=mpd-time-cmaf)'));
      assert.equal(entryType(clearInit), 'avc1');
      assert.ok(!boxes(boxes(clearBytes).find((x) => x.type === 'moof')!.body).some((x) => x.type === 'traf' && boxes(x.body).some((c) => c.type === 'senc')));
      assert.ok((await bytesOf(at('enc', path_))).equals(aBytes), 'the same bytes again');
      // HEAD announces the encrypted size (senc/saiz/saio added; AES-128 padding) that GET sends.
      const ts = `${server.url}/${ids.enc}/clip.ism/QualityLevels(300000)/Fragments(video=25600,format=m3u8-aapl,encryption=cbc).ts`;
      const cmafAes = `${server.url}/${ids.enc}/clip.ism/QualityLevels(128000)/Fragments(aac_eng_2_128=0,format=m3u8-cmaf,encryption=cbc).m4s`;
      for (const url of [at('enc', path_), ts, cmafAes]) {
        const head = await fetch(url, { method: 'HEAD' });
        assert.equal(head.status, 200, url);
        assert.equal(Number(head.headers.get('content-length')), (await bytesOf(url)).length, `${url}: HEAD length`);
      }
      // Conditional requests name the locator's own bytes.
      assert.equal((await fetch(at('other', path_), { headers: { 'if-none-match': etags[0]! } })).status, 200);
      assert.equal((await fetch(at('enc', path_), { headers: { 'if-none-match': etags[0]! } })).status, 304);
    });

    it('answers bad playback input with clear 4xx errors', async () => {
      const cases: Array<[string, string, number, string]> = [
        ['enc', '(format=m3u8-cmaf)', 400, 'EncryptionNotSpecifiedInUrl'],
        ['enc', '(format=mpd-time-cmaf)', 400, 'EncryptionNotSpecifiedInUrl'],
        ['enc', '(format=m3u8-aapl,encryption=cenc)', 400, 'EncryptionNotSupportedForFormat'],
        ['enc', '(format=m3u8-aapl,encryption=cbcs-aapl)', 400, 'EncryptionNotSupportedForFormat'],
        ['enc', '(encryption=cbcs)', 403, 'ProtocolNotEnabled'],
        ['cencOnly', '(format=m3u8-cmaf,encryption=cbc)', 403, 'ProtocolNotEnabled'],
        ['cencOnly', '(format=mpd-time-cmaf,encryption=cbcs)', 403, 'ProtocolNotEnabled'],
        ['enc', '(format=mpd-time-cmaf,encryption=aes)', 400, ''],
        ['enc', '(format=mpd-time-cmaf,encryption=)', 400, ''],
        ['clear', '(format=mpd-time-cmaf,encryption=cenc)', 403, 'ProtocolNotEnabled'],
      ];
      for (const [locator, options, status, code] of cases) {
        const res = await fetch(manifest(locator, options));
        const text = await res.text();
        assert.equal(res.status, status, `${locator} ${options}: ${text}`);
        assertErrorBody(text, status, code || undefined);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
      }
      // Segments are refused the same way: never served clear under an encrypted locator.
      for (const p of [
        'QualityLevels(800000)/Fragments(video=0,format=mpd-time-cmaf)',
        'QualityLevels(800000)/Fragments(video=0,format=m3u8-aapl,encryption=cenc)',
        'QualityLevels(800000)/Fragments(video=i,format=m3u8-cmaf)',
      ]) {
        const res = await fetch(`${server.url}/${ids.enc}/clip.ism/${p}`);
        assert.ok(res.status === 400 || res.status === 403, `${p}: ${res.status}`);
      }
    });

    it('refuses a protected stream whose video the scheme cannot carry with a 4xx, manifests and segments alike, never clear', async () => {
      // An H.264 rendition whose avcC says 3-byte NAL lengths (not allowed): clear CMAF passes it through, the
      // CENC/CBCS stage cannot find the slices to encrypt.
      const dir = path.join(server.localArea(), 'vod', 'odd-avc');
      fs.mkdirSync(dir, { recursive: true });
      const file = fs.readFileSync(path.join(ladder.dir, ladder.files[1]));
      const avcC = file.indexOf('avcC');
      file[avcC + 8] = (file[avcC + 8] & 0xfc) | 2;
      fs.writeFileSync(path.join(dir, 'movie.mp4'), file);
      assert.equal((await api.put(`${V}/assets/odd-avc`, { properties: { storageAccountName: 'vod', container: 'odd-avc' } })).status, 201);
      const oddIds = { enc: 'e0000001-0000-4000-8000-0000000000a1', clear: 'e0000001-0000-4000-8000-0000000000a2' };
      for (const [name, policy] of [
        ['enc', 'all'],
        ['clear', 'Predefined_ClearStreamingOnly'],
      ] as const) {
        const res = await api.put(`${V}/streamingLocators/odd-${name}`, {
          properties: { assetName: 'odd-avc', streamingPolicyName: policy, streamingLocatorId: oddIds[name] },
        });
        assert.equal(res.status, 201, res.text);
      }
      const clear = `${server.url}/${oddIds.clear}/manifest.ism/manifest(format=mpd-time-cmaf)`;
      const clearTracks = dashTracks(await textOf(clear), clear);
      assert.equal(clearTracks.length, 1);
      assert.equal(entryType(await bytesOf(clearTracks[0].init!)), 'avc1');
      const enc = (options: string) => `${server.url}/${oddIds.enc}/manifest.ism/manifest(${options})`;
      const encrypted = (url: string, encryption: string) =>
        url.replace(oddIds.clear, oddIds.enc).replace('format=mpd-time-cmaf', `format=mpd-time-cmaf,encryption=${encryption}`);
      for (const url of [
        enc('format=mpd-time-cmaf,encryption=cenc'),
        enc('format=m3u8-cmaf,encryption=cbcs-aapl'),
        encrypted(clearTracks[0].init!, 'cenc'),
        encrypted(clearTracks[0].media[0], 'cenc'),
        encrypted(clearTracks[0].media[1], 'cbcs'),
      ]) {
        const res = await fetch(url);
        const text = await res.text();
        assert.equal(res.status, 422, `${url}: ${text}`);
        assertErrorBody(text, 422, 'CorruptMedia');
        assert.match(JSON.parse(text).error.detail, /lengthSizeMinusOne/);
      }
    });

    describe('key delivery token matrix through API-made policies', () => {
      const secret = symmetricKey();
      const otherSecret = symmetricKey();
      const rsa = rsaPair();
      const otherRsa = rsaPair();
      const x509 = x509Pair();
      const x509Key = createPrivateKey(x509.privateKey);
      const names = ['jwt-hs256', 'jwt-rs256', 'jwt-x509', 'swt'] as const;
      const locatorIds: Record<string, string> = {
        'jwt-hs256': 'f0000001-0000-4000-8000-000000000001',
        'jwt-rs256': 'f0000001-0000-4000-8000-000000000002',
        'jwt-x509': 'f0000001-0000-4000-8000-000000000003',
        swt: 'f0000001-0000-4000-8000-000000000004',
      };
      const keysByPolicy = new Map<string, { env: { id: string; value: Buffer }; cenc: { id: string; value: Buffer } }>();
      const errorBodies: string[] = [];

      before(async () => {
        const restrictions = {
          'jwt-hs256': tokenRestriction({
            primary: symmetricTokenKey(otherSecret),
            alternates: [symmetricTokenKey(secret)],
            requiredClaims: [{ claimType: contentKeyIdentifierClaim }, { claimType: 'tier', claimValue: 'gold' }],
          }),
          'jwt-rs256': tokenRestriction({
            primary: rsaTokenKey(rsa.publicKey),
            requiredClaims: [{ claimType: contentKeyIdentifierClaim }, { claimType: 'tier', claimValue: 'gold' }],
          }),
          'jwt-x509': tokenRestriction({
            primary: x509TokenKey(x509.der),
            requiredClaims: [{ claimType: contentKeyIdentifierClaim }, { claimType: 'tier', claimValue: 'gold' }],
          }),
          swt: tokenRestriction({ tokenType: 'Swt', primary: symmetricTokenKey(secret) }),
        };
        for (const name of names) {
          const res = await api.put(`${V}/contentKeyPolicies/${name}`, {
            properties: { options: [{ name: 'clearkey', configuration: { '@odata.type': T.clearKey }, restriction: restrictions[name] }] },
          });
          assert.equal(res.status, 201, res.text);
          assert.equal(
            (
              await api.put(`${V}/streamingPolicies/sp-${name}`, {
                properties: {
                  defaultContentKeyPolicyName: name,
                  envelopeEncryption: { enabledProtocols: noSmooth },
                  commonEncryptionCenc: { enabledProtocols: noSmooth },
                },
              })
            ).status,
            201,
          );
          const put = await api.put(`${V}/streamingLocators/tok-${name}`, {
            properties: { assetName: 'ladder', streamingPolicyName: `sp-${name}`, streamingLocatorId: locatorIds[name] },
          });
          assert.equal(put.status, 201, put.text);
          const listed = await listKeys(`tok-${name}`);
          const of = (type: string) => {
            const k = listed.find((x) => x.type === type)!;
            return { id: k.id as string, value: Buffer.from(k.value, 'base64') };
          };
          keysByPolicy.set(name, { env: of('EnvelopeEncryption'), cenc: of('CommonEncryptionCenc') });
        }
      });

      /** Asks both routes for `name`'s keys with the token `tokenFor(keyId)` makes; checks the answer. */
      async function expectBoth(name: string, what: string, tokenFor: (keyId: string) => Promise<string> | string, status: number) {
        const keys = keysByPolicy.get(name)!;
        const id = locatorIds[name];
        const aes = await fetch(`${server.url}/keydelivery/${id}/aes/${keys.env.id}`, { headers: { authorization: `Bearer ${await tokenFor(keys.env.id)}` } });
        const aesBody = Buffer.from(await aes.arrayBuffer());
        assert.equal(aes.status, status, `${name} ${what} (aes): ${aesBody.toString().slice(0, 300)}`);
        const licence = await fetch(`${server.url}/keydelivery/${id}/clearkey`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await tokenFor(keys.cenc.id)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ kids: [b64url(keys.cenc.id)], type: 'temporary' }),
        });
        const licenceText = await licence.text();
        assert.equal(licence.status, status, `${name} ${what} (clearkey): ${licenceText}`);
        if (status === 200) {
          assert.ok(aesBody.equals(keys.env.value), `${name} ${what}: the envelope key`);
          assert.deepEqual(JSON.parse(licenceText).keys, [{ kty: 'oct', kid: b64url(keys.cenc.id), k: keys.cenc.value.toString('base64url') }]);
        } else {
          for (const text of [aesBody.toString(), licenceText]) {
            assertErrorBody(text, status, status === 401 ? 'Unauthorized' : 'Forbidden');
            errorBodies.push(text);
          }
        }
      }

      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const gold = { tier: 'gold' };

      for (const [name, alg, signer, wrong] of [
        ['jwt-hs256', 'HS256', () => secret, () => symmetricKey()],
        ['jwt-rs256', 'RS256', () => rsa.privateKey, () => otherRsa.privateKey],
        ['jwt-x509', 'RS256', () => x509Key, () => otherRsa.privateKey],
      ] as const) {
        it(`${name}: valid → 200; expired, wrong audience, issuer or key, missing claim, alg none → 401; another key's id → 403`, async () => {
          const sign = (keyId: string, shape: Json = {}, key: any = signer()) => signJwt(alg, key, { keyId, claims: gold, ...shape });
          await expectBoth(name, 'valid', (id) => sign(id), 200);
          await expectBoth(name, 'expired', (id) => sign(id, { expiresIn: -3600 }), 401);
          await expectBoth(name, 'not yet valid', (id) => sign(id, { notBeforeIn: 3600 }), 401);
          await expectBoth(name, 'wrong audience', (id) => sign(id, { audience: 'urn:other' }), 401);
          await expectBoth(name, 'wrong issuer', (id) => sign(id, { issuer: 'https://evil.example' }), 401);
          await expectBoth(name, 'wrong key', (id) => sign(id, {}, wrong()), 401);
          await expectBoth(name, 'missing tier claim', (id) => sign(id, { claims: {} }), 401);
          await expectBoth(name, 'wrong tier value', (id) => sign(id, { claims: { tier: 'silver' } }), 401);
          await expectBoth(name, 'missing key id claim', () => signJwt(alg, signer(), { claims: gold }), 401);
          const exp = Math.floor(Date.now() / 1000) + 3600;
          await expectBoth(
            name,
            'alg none',
            (id) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issuer, aud: audience, exp, tier: 'gold', [contentKeyIdentifierClaim]: id })}.`,
            401,
          );
          await expectBoth(name, 'no token', () => '', 401);
          const keys = keysByPolicy.get(name)!;
          await expectBoth(name, "another key's id", (id) => sign(id === keys.env.id ? keys.cenc.id : keys.env.id), 403);
        });
      }
      it('jwt-hs256 refuses an RS256 token and HS256 signed with the RSA public key (wrong algorithm)', async () => {
        const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
        await expectBoth('jwt-hs256', 'HS256 keyed with a public key', (id) => signJwt('HS256', pem, { keyId: id, claims: gold }), 401);
        await expectBoth('jwt-rs256', 'HS256 keyed with its public key', (id) => signJwt('HS256', pem, { keyId: id, claims: gold }), 401);
        await expectBoth('jwt-hs256', 'RS256', (id) => signJwt('RS256', rsa.privateKey, { keyId: id, claims: gold }), 401);
      });

      it('swt: valid → 200; expired, wrong audience, issuer or key, missing key id claim → 401; another key’s id → 403', async () => {
        const swt = (id: string, shape: Json = {}, key = secret) => signSwt(key, { claims: { [contentKeyIdentifierClaim]: id }, ...shape });
        await expectBoth('swt', 'valid', (id) => swt(id), 200);
        await expectBoth('swt', 'expired', (id) => swt(id, { expiresIn: -3600 }), 401);
        await expectBoth('swt', 'wrong audience', (id) => swt(id, { audience: 'urn:other' }), 401);
        await expectBoth('swt', 'wrong issuer', (id) => swt(id, { issuer: 'https://evil.example' }), 401);
        await expectBoth('swt', 'wrong key', (id) => swt(id, {}, otherSecret), 401);
        await expectBoth('swt', 'missing key id claim', () => signSwt(secret, {}), 401);
        const keys = keysByPolicy.get('swt')!;
        await expectBoth('swt', "another key's id", (id) => swt(id === keys.env.id ? keys.cenc.id : keys.env.id), 403);
      });

      it('Open keys need no token; keys of a policy without a ClearKey option are refused with 403 on both routes', async () => {
        const open = key('enc', 'EnvelopeEncryption');
        assert.ok((await bytesOf(`${server.url}/keydelivery/${ids.enc}/aes/${open.id}`)).equals(open.value));
        const drm = key('drmOnly', 'EnvelopeEncryption');
        const aes = await fetch(`${server.url}/keydelivery/${ids.drmOnly}/aes/${drm.id}`);
        const text = await aes.text();
        assert.equal(aes.status, 403);
        assertErrorBody(text, 403, 'Forbidden');
        errorBodies.push(text);
      });

      it('never puts key bytes in an error body or a log line, nor tokens in the log', () => {
        assert.ok(errorBodies.length > 40);
        const forms = (v: Buffer) => [v.toString('hex'), v.toString('base64'), v.toString('base64url')];
        const secrets = [...keysByPolicy.values()].flatMap((k) => [...forms(k.env.value), ...forms(k.cenc.value)]);
        for (const body of errorBodies) for (const s of secrets) assert.ok(!body.includes(s), `an error body holds a key: ${body}`);
        const logs = server.logs();
        assert.match(logs, /key delivery refused/);
        for (const s of [...secrets, secret.toString('base64')]) assert.ok(!logs.includes(s), 'a key reached the log');
        assert.doesNotMatch(logs, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, 'a JWT reached the log');
        assert.doesNotMatch(logs, /HMACSHA256=/, 'an SWT reached the log');
      });
    });

    it('serves the same encrypted segment and key delivery from an origin process', async () => {
      const origin = server.reel.originUrl;
      assert.notEqual(origin, server.url);
      const p = `/${ids.enc}/clip.ism/QualityLevels(300000)/Fragments(video=0,format=mpd-time-cmaf,encryption=cenc)`;
      const [main, fromOrigin] = await Promise.all([fetch(`${server.url}${p}`), fetch(`${origin}${p}`)]);
      assert.equal(fromOrigin.status, 200);
      assert.ok(Buffer.from(await fromOrigin.arrayBuffer()).equals(Buffer.from(await main.arrayBuffer())));
      assert.equal(fromOrigin.headers.get('etag'), main.headers.get('etag'));
      const env = key('enc', 'EnvelopeEncryption');
      assert.ok((await bytesOf(`${origin}/keydelivery/${ids.enc}/aes/${env.id}`)).equals(env.value));
      const cenc = key('enc', 'CommonEncryptionCenc');
      const licence = await fetch(`${origin}/keydelivery/${ids.enc}/clearkey`, {
        method: 'POST',
        body: JSON.stringify({ kids: [b64url(cenc.id)], type: 'temporary' }),
      });
      assert.equal(licence.status, 200);
      assert.equal((await licence.json()).keys[0].k, cenc.value.toString('base64url'));
      const mpd = await (await fetch(`${origin}/${ids.enc}/clip.ism/manifest(format=mpd-time-cmaf,encryption=cenc)`)).text();
      assert.ok(mpd.includes(`<dashif:Laurl>${origin}/keydelivery/${ids.enc}/clearkey</dashif:Laurl>`), 'licence URL on the host asked');
    });
  });
}

// Reel's protected streams played by real players in Debian's Chromium, end to end against Reel itself: a
// content key policy (ClearKey, JWT token restriction: HS256, issuer, audience, the content key identifier
// claim) and streaming policies created through the API, locators whose keys Reel generated, the paths and
// licence URL from listPaths, segments encrypted by Reel's origin and keys/licences from Reel's key delivery.
// The token goes on key and licence requests only, as each player sends it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { audience, issuer, signJwt, symmetricKey } from '../support/token-keys.js';
import { contentKeyIdentifierClaim } from '../../src/shared/content-protection.js';
import { makeLadder } from '../fixtures/media.js';
import { closeBrowser, playToEnd, type DrmOptions, type PlayerName, type PlayResult } from './players/play.js';

const V = '/api/v1/projects/default/media';
const FPS = 25;
const protocols = { download: false, dash: true, hls: true, smoothStreaming: false };

interface Paths {
  streamingPaths: Array<{ streamingProtocol: string; encryptionScheme: string; paths: string[] }>;
  drm?: { clearKey?: { licenseAcquisitionUrl: string } };
}

function report(label: string, r: PlayResult): string {
  return (
    `${label}: state=${r.state} ended=${r.ended} t=${r.currentTime.toFixed(3)}/${r.duration.toFixed(3)} frames=${r.decodedFrames}` +
    ` wall=${r.wallMs}ms errors=${JSON.stringify(r.errors)} drmErrors=${JSON.stringify(r.drmErrors)} keyRequests=${JSON.stringify(r.keyRequests)}` +
    ` wire=${JSON.stringify(r.wireKeyRequests)} warnings=${JSON.stringify(r.warnings.slice(0, 10))}\nlog:\n  ${r.log.join('\n  ')}`
  );
}

describe('protected Reel streams in real players (Chromium)', { timeout: 900_000 }, () => {
  let server: TestServer;
  let api: ApiClient;
  let host: string;
  const ladder = makeLadder();
  const secret = symmetricKey();
  /** Locator GUID and content key id per scheme. */
  const envelope = { locatorId: '5e7a0000-0000-4000-8000-00000000000a', keyId: '' };
  const common = { locatorId: '5e7a0000-0000-4000-8000-00000000000c', cencKeyId: '', cbcsKeyId: '' };
  const multiDrm = { locatorId: '5e7a0000-0000-4000-8000-00000000000d', keyId: '' };
  const paths: Record<string, Paths> = {};

  const tokenFor = (keyId: string) => signJwt('HS256', secret, { keyId });

  before(async () => {
    server = await startTestServer('sqlite', { REEL_LOG_LEVEL: 'warn' });
    api = new ApiClient(server.url).withToken((await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token);
    const root = path.join(server.localArea(), 'vod');
    fs.mkdirSync(path.join(root, 'ladder'), { recursive: true });
    for (const f of ladder.files) fs.copyFileSync(path.join(ladder.dir, f), path.join(root, 'ladder', f));
    fs.writeFileSync(path.join(root, 'ladder', 'clip.ism'), ladder.ism);
    assert.equal((await api.put(`${V}/storage/vod`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
    assert.equal((await api.put(`${V}/assets/ladder`, { properties: { storageAccountName: 'vod', container: 'ladder' } })).status, 201);

    // ClearKey delivery behind a JWT: HS256 with our secret, this issuer and audience, bound to one key id.
    const policy = await api.put(`${V}/contentKeyPolicies/jwt-clearkey`, {
      properties: {
        description: 'ClearKey behind a JWT',
        options: [
          {
            name: 'clearkey-jwt',
            configuration: { '@odata.type': '#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration' },
            restriction: {
              '@odata.type': '#Microsoft.Media.ContentKeyPolicyTokenRestriction',
              issuer,
              audience,
              restrictionTokenType: 'Jwt',
              primaryVerificationKey: { '@odata.type': '#Microsoft.Media.ContentKeyPolicySymmetricTokenKey', keyValue: secret.toString('base64') },
              alternateVerificationKeys: [],
              requiredClaims: [{ claimType: contentKeyIdentifierClaim }],
            },
          },
        ],
      },
    });
    assert.equal(policy.status, 201, policy.text);
    assert.ok(!policy.text.includes(secret.toString('base64')), 'the policy answer shows no verification key');

    // CENC and CBCS, both for DASH and HLS (CMAF), with ClearKey delivery.
    const streaming = await api.put(`${V}/streamingPolicies/clearkey-cenc-cbcs`, {
      properties: {
        defaultContentKeyPolicyName: 'jwt-clearkey',
        commonEncryptionCenc: { enabledProtocols: protocols, contentKeys: { defaultKey: { label: 'cenc' } }, clearKeyEncryptionConfiguration: {} },
        commonEncryptionCbcs: { enabledProtocols: protocols, contentKeys: { defaultKey: { label: 'cbcs' } }, clearKeyEncryptionConfiguration: {} },
      },
    });
    assert.equal(streaming.status, 201, streaming.text);

    const locator = async (name: string, body: Record<string, unknown>) => {
      const res = await api.put(`${V}/streamingLocators/${name}`, { properties: { assetName: 'ladder', ...body } });
      assert.equal(res.status, 201, res.text);
      const keys = (await api.post(`${V}/streamingLocators/${name}/listContentKeys`)).body.contentKeys as Array<{ id: string; type: string }>;
      const listed = await api.post(`${V}/streamingLocators/${name}/listPaths`);
      assert.equal(listed.status, 200, listed.text);
      paths[name] = listed.body as Paths;
      return keys;
    };
    const envelopeKeys = await locator('aes', {
      streamingPolicyName: 'Predefined_ClearKey',
      defaultContentKeyPolicyName: 'jwt-clearkey',
      streamingLocatorId: envelope.locatorId,
    });
    assert.deepEqual(
      envelopeKeys.map((k) => k.type),
      ['EnvelopeEncryption'],
    );
    envelope.keyId = envelopeKeys[0].id;
    const commonKeys = await locator('cenc-cbcs', { streamingPolicyName: 'clearkey-cenc-cbcs', streamingLocatorId: common.locatorId });
    common.cencKeyId = commonKeys.find((k) => k.type === 'CommonEncryptionCenc')?.id ?? '';
    common.cbcsKeyId = commonKeys.find((k) => k.type === 'CommonEncryptionCbcs')?.id ?? '';
    assert.ok(common.cencKeyId && common.cbcsKeyId, JSON.stringify(commonKeys));

    // MK.IO's predefined multi-DRM policy (PlayReady, Widevine) with the ClearKey+JWT policy as the locator's default.
    const multiKeys = await locator('multidrm', {
      streamingPolicyName: 'Predefined_MultiDrmCencStreaming',
      defaultContentKeyPolicyName: 'jwt-clearkey',
      streamingLocatorId: multiDrm.locatorId,
    });
    multiDrm.keyId = multiKeys[0].id;
    const endpoint = await api.get(`${V}/streamingEndpoints/default`);
    host = `http://${endpoint.body.properties.hostName as string}`;
  });
  after(async () => {
    await closeBrowser();
    await server?.close();
  });

  /** The listPaths path of `name` for `protocol`/`scheme` with `format=`, on the endpoint host. */
  const urlOf = (name: string, protocol: 'Hls' | 'Dash', scheme: string, format: string): string => {
    const entry = paths[name].streamingPaths.find((p) => p.streamingProtocol === protocol && p.encryptionScheme === scheme);
    assert.ok(entry, `${name} lists no ${protocol} ${scheme} path: ${JSON.stringify(paths[name])}`);
    const found = entry.paths.find((p) => p.includes(`format=${format}`));
    assert.ok(found, `${name} lists no ${format} path for ${scheme}: ${JSON.stringify(entry.paths)}`);
    return `${host}${found}`;
  };
  const licenceUrl = (name: string): string => {
    const url = paths[name].drm?.clearKey?.licenseAcquisitionUrl;
    assert.ok(url, `${name}: listPaths has no ClearKey licence URL: ${JSON.stringify(paths[name])}`);
    return url.startsWith('http') ? url : `${host}${url}`;
  };

  /** Watches the server log for tokens: a refusal is logged, the token never. */
  const logHasNo = (token: string, what: string) => assert.ok(!server.logs().includes(token.split('.')[2]), `${what}: a token reached the log`);

  function assertPlayedThrough(label: string, r: PlayResult): void {
    const why = report(label, r);
    assert.deepEqual(r.errors, [], why);
    assert.equal(r.ended, true, why);
    assert.ok(Math.abs(r.duration - ladder.seconds) <= 0.5, `duration ≈ ${ladder.seconds}: ${why}`);
    assert.ok(Math.abs(r.currentTime - r.duration) <= 0.5, `currentTime ≈ duration: ${why}`);
    // Frames the decoder output are decrypted frames: ciphertext does not decode to a 640x360 picture stream.
    assert.ok(r.decodedFrames > 0.8 * ladder.seconds * FPS, `decoded frames: ${why}`);
    assert.deepEqual(r.drmErrors, [], why);
  }

  /** Every key/licence request carried the token (page and wire) and got 200; nothing else went to key delivery. */
  function assertKeysWithToken(label: string, r: PlayResult, kind: 'key' | 'license', token: string): void {
    const why = report(label, r);
    assert.ok(r.keyRequests.length > 0, `the player asked for a ${kind}: ${why}`);
    for (const k of r.keyRequests) {
      assert.equal(k.kind, kind, why);
      assert.equal(k.status, 200, why);
      assert.equal(k.withToken, true, why);
    }
    assert.ok(r.wireKeyRequests.length >= r.keyRequests.length, why);
    for (const w of r.wireKeyRequests) {
      assert.equal(w.authorization, `Bearer ${token}`, why);
      assert.equal(w.status, 200, why);
    }
    assert.ok(r.mediaRequests > 3, why);
    assert.deepEqual(r.mediaRequestsWithToken, [], `playlists and segments go without the token: ${why}`);
  }

  interface Case {
    player: PlayerName;
    what: string;
    locator: 'aes' | 'cenc-cbcs' | 'multidrm';
    protocol: 'Hls' | 'Dash';
    scheme: 'EnvelopeEncryption' | 'CommonEncryptionCenc' | 'CommonEncryptionCbcs';
    format: string;
    kind: 'key' | 'license';
    keyId: () => string;
  }
  const cases: Case[] = [
    {
      player: 'hls.js',
      what: 'AES-128 HLS (m3u8-aapl, MPEG-TS)',
      locator: 'aes',
      protocol: 'Hls',
      scheme: 'EnvelopeEncryption',
      format: 'm3u8-aapl',
      kind: 'key',
      keyId: () => envelope.keyId,
    },
    {
      player: 'hls.js',
      what: 'AES-128 HLS (m3u8-cmaf)',
      locator: 'aes',
      protocol: 'Hls',
      scheme: 'EnvelopeEncryption',
      format: 'm3u8-cmaf',
      kind: 'key',
      keyId: () => envelope.keyId,
    },
    {
      player: 'shaka',
      what: 'AES-128 HLS (m3u8-aapl)',
      locator: 'aes',
      protocol: 'Hls',
      scheme: 'EnvelopeEncryption',
      format: 'm3u8-aapl',
      kind: 'key',
      keyId: () => envelope.keyId,
    },
    {
      player: 'shaka',
      what: 'CENC DASH via the ClearKey licence server',
      locator: 'cenc-cbcs',
      protocol: 'Dash',
      scheme: 'CommonEncryptionCenc',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => common.cencKeyId,
    },
    {
      player: 'dash.js',
      what: 'CENC DASH via the ClearKey licence server',
      locator: 'cenc-cbcs',
      protocol: 'Dash',
      scheme: 'CommonEncryptionCenc',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => common.cencKeyId,
    },
    {
      player: 'shaka',
      what: 'CENC HLS-CMAF via the identity key URL',
      locator: 'cenc-cbcs',
      protocol: 'Hls',
      scheme: 'CommonEncryptionCenc',
      format: 'm3u8-cmaf',
      kind: 'key',
      keyId: () => common.cencKeyId,
    },
    // Predefined_ClearKey on DASH (encryption=cbc): CENC samples under the envelope key, through the licence server.
    {
      player: 'shaka',
      what: 'Predefined_ClearKey DASH (encryption=cbc) via the ClearKey licence server',
      locator: 'aes',
      protocol: 'Dash',
      scheme: 'EnvelopeEncryption',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => envelope.keyId,
    },
    {
      player: 'dash.js',
      what: 'Predefined_ClearKey DASH (encryption=cbc) via the ClearKey licence server',
      locator: 'aes',
      protocol: 'Dash',
      scheme: 'EnvelopeEncryption',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => envelope.keyId,
    },
    // This Chromium's ClearKey CDM decrypts cbcs (pattern 1:9 video, whole-sample audio).
    {
      player: 'shaka',
      what: 'CBCS DASH (encryption=cbcs) via the ClearKey licence server',
      locator: 'cenc-cbcs',
      protocol: 'Dash',
      scheme: 'CommonEncryptionCbcs',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => common.cbcsKeyId,
    },
    {
      player: 'dash.js',
      what: 'CBCS DASH (encryption=cbcs) via the ClearKey licence server',
      locator: 'cenc-cbcs',
      protocol: 'Dash',
      scheme: 'CommonEncryptionCbcs',
      format: 'mpd-time-cmaf',
      kind: 'license',
      keyId: () => common.cbcsKeyId,
    },
    {
      player: 'shaka',
      what: 'CBCS HLS-CMAF (encryption=cbcs-aapl) via the identity key URL',
      locator: 'cenc-cbcs',
      protocol: 'Hls',
      scheme: 'CommonEncryptionCbcs',
      format: 'm3u8-cmaf',
      kind: 'key',
      keyId: () => common.cbcsKeyId,
    },
    {
      player: 'shaka',
      what: 'AES-128 HLS (m3u8-cmaf)',
      locator: 'aes',
      protocol: 'Hls',
      scheme: 'EnvelopeEncryption',
      format: 'm3u8-cmaf',
      kind: 'key',
      keyId: () => envelope.keyId,
    },
  ];
  it('serves really encrypted media: AES-128 TS segments are not MPEG-TS, CMAF init segments carry tenc with the scheme', async () => {
    // Node does not resolve `*.localhost` as Chromium does: connect to 127.0.0.1 and name the endpoint host.
    const get = async (url: string) => {
      const u = new URL(url);
      const res = await request(`http://127.0.0.1:${u.port}${u.pathname}${u.search}`, { host: u.host });
      assert.equal(res.status, 200, url);
      return res.body;
    };
    const firstUri = (playlist: string, base: string, pattern: RegExp) => {
      const m = pattern.exec(playlist);
      assert.ok(m, playlist);
      return new URL(m[1], base).href;
    };
    const mediaPlaylist = async (master: string) => {
      const url = firstUri((await get(master)).toString(), master, /^([^#\s].*)$/m);
      return { url, text: (await get(url)).toString() };
    };
    const aes = await mediaPlaylist(urlOf('aes', 'Hls', 'EnvelopeEncryption', 'm3u8-aapl'));
    assert.match(aes.text, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="[^"]*/keydelivery/${envelope.locatorId}/aes/${envelope.keyId}"`), aes.text);
    const ts = await get(firstUri(aes.text, aes.url, /^([^#\s].*)$/m));
    assert.ok(ts.length > 188 && ts.length % 16 === 0, 'a whole number of AES blocks');
    assert.ok(!(ts[0] === 0x47 && ts[188] === 0x47), 'the segment is not clear MPEG-TS');
    for (const [scheme, fourcc, keyId] of [
      ['CommonEncryptionCenc', 'cenc', common.cencKeyId],
      ['CommonEncryptionCbcs', 'cbcs', common.cbcsKeyId],
    ] as const) {
      const media = await mediaPlaylist(urlOf('cenc-cbcs', 'Hls', scheme, 'm3u8-cmaf'));
      const init = await get(firstUri(media.text, media.url, /#EXT-X-MAP:URI="([^"]+)"/));
      for (const box of ['encv', 'sinf', 'schm', fourcc, 'tenc']) assert.ok(init.includes(box), `${scheme} init segment has ${box}`);
      assert.ok(init.includes(Buffer.from(keyId.replaceAll('-', ''), 'hex')), `${scheme} init segment names key ${keyId}`);
    }
  });

  const caseOf = (player: PlayerName, what: string): Case => {
    const found = cases.find((c) => c.player === player && c.what.startsWith(what));
    assert.ok(found, `${player} ${what}`);
    return found;
  };
  const hlsJsAes = () => caseOf('hls.js', 'AES-128 HLS (m3u8-aapl');
  const shakaCencDash = () => caseOf('shaka', 'CENC DASH');
  const dashJsCencDash = () => caseOf('dash.js', 'CENC DASH');

  for (const c of cases) {
    it(`${c.player} plays ${c.what} to the end with the token on ${c.kind} requests only`, async () => {
      const token = await tokenFor(c.keyId());
      const url = urlOf(c.locator, c.protocol, c.scheme, c.format);
      const drm: DrmOptions = { token, ...(c.kind === 'license' ? { clearKeyLicenseUrl: licenceUrl(c.locator) } : {}) };
      const r = await playToEnd({ url, player: c.player, timeoutMs: 60_000, playbackRate: 4, name: `reel-protected-${c.player}-${c.format}-${c.scheme}`, drm });
      const label = `${c.player} ${c.what}`;
      assertPlayedThrough(label, r);
      assertKeysWithToken(label, r, c.kind, token);
      logHasNo(token, label);
    });
  }

  it('the token can go as ?token= instead: hls.js AES-128 key, dash.js CENC licence', async () => {
    for (const c of [hlsJsAes(), dashJsCencDash()]) {
      const token = await tokenFor(c.keyId());
      const url = urlOf(c.locator, c.protocol, c.scheme, c.format);
      const r = await playToEnd({
        url,
        player: c.player,
        timeoutMs: 60_000,
        drm: { token, tokenIn: 'query', ...(c.kind === 'license' ? { clearKeyLicenseUrl: licenceUrl(c.locator) } : {}) },
      });
      const label = `${c.player} ${c.what}, token in the query`;
      assertPlayedThrough(label, r);
      const why = report(label, r);
      assert.ok(r.wireKeyRequests.length > 0, why);
      for (const w of r.wireKeyRequests) {
        assert.equal(new URL(w.url).searchParams.get('token'), token, why);
        assert.equal(w.authorization, undefined, why);
        assert.equal(w.status, 200, why);
      }
      assert.deepEqual(r.mediaRequestsWithToken, [], why);
      logHasNo(token, label);
    }
  });

  it("Shaka finds Reel's ClearKey licence server in the MPD itself (dashif:Laurl), with no licence URL configured", async () => {
    const token = await tokenFor(common.cencKeyId);
    const r = await playToEnd({
      url: urlOf('cenc-cbcs', 'Dash', 'CommonEncryptionCenc', 'mpd-time-cmaf'),
      player: 'shaka',
      timeoutMs: 60_000,
      drm: { token },
    });
    assertPlayedThrough('shaka CENC DASH, licence URL from the MPD', r);
    assertKeysWithToken('shaka CENC DASH, licence URL from the MPD', r, 'license', token);
    for (const w of r.wireKeyRequests) assert.equal(new URL(w.url).pathname, `/keydelivery/${common.locatorId}/clearkey`);
  });

  it('Shaka plays a Predefined_MultiDrmCencStreaming locator with ClearKey (Widevine and PlayReady signalled beside it)', async () => {
    const token = await tokenFor(multiDrm.keyId);
    const r = await playToEnd({
      url: urlOf('multidrm', 'Dash', 'CommonEncryptionCenc', 'mpd-time-cmaf'),
      player: 'shaka',
      timeoutMs: 60_000,
      drm: { token },
    });
    const label = 'shaka multi-DRM CENC DASH with ClearKey';
    assertPlayedThrough(label, r);
    assertKeysWithToken(label, r, 'license', token);
  });

  it('without a token, the key and the licence are refused (401) and the players stop with a DRM error, nothing decoded', async () => {
    for (const c of [hlsJsAes(), shakaCencDash()]) {
      const url = urlOf(c.locator, c.protocol, c.scheme, c.format);
      const r = await playToEnd({
        url,
        player: c.player,
        timeoutMs: 40_000,
        drm: c.kind === 'license' ? { clearKeyLicenseUrl: licenceUrl(c.locator) } : {},
      });
      const why = report(`${c.player} ${c.what} without a token`, r);
      assert.equal(r.state, 'error', why);
      assert.equal(r.timedOut, false, why);
      assert.ok(r.keyRequests.length > 0 && r.keyRequests.every((k) => k.kind === c.kind && k.status === 401 && !k.withToken), why);
      assert.ok(r.drmErrors.length > 0, why);
      assert.ok(
        r.errors.some((e) => e.startsWith('HTTP 401')),
        why,
      );
      assert.ok(r.decodedFrames === 0, `nothing decoded: ${why}`);
    }
  });

  it('a valid token for another key id is refused (403): hls.js AES-128 and dash.js CENC stop with a DRM error, nothing decoded', async () => {
    for (const [c, other] of [
      [hlsJsAes(), common.cencKeyId],
      [dashJsCencDash(), envelope.keyId],
    ] as const) {
      const token = await tokenFor(other);
      const url = urlOf(c.locator, c.protocol, c.scheme, c.format);
      const r = await playToEnd({
        url,
        player: c.player,
        timeoutMs: 40_000,
        drm: { token, ...(c.kind === 'license' ? { clearKeyLicenseUrl: licenceUrl(c.locator) } : {}) },
      });
      const why = report(`${c.player} ${c.what} with another key's token`, r);
      assert.equal(r.state, 'error', why);
      assert.equal(r.timedOut, false, why);
      assert.ok(r.keyRequests.length > 0 && r.keyRequests.every((k) => k.kind === c.kind && k.status === 403 && k.withToken), why);
      assert.ok(r.drmErrors.length > 0, why);
      assert.ok(r.decodedFrames === 0, `nothing decoded: ${why}`);
      logHasNo(token, 'refusal');
    }
  });
});

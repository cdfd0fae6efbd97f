// Proves the harness's protected playback (the `drm` option of play.ts) against encrypted streams Reel did not
// make: ffmpeg's HLS AES-128 and a CENC DASH encrypted by reference-cenc.ts (checked here against ffmpeg's
// decryptor), served by a stand-in origin with key delivery at Reel's URL forms behind an HS256 token. The
// Reel protected-playback tests use the same harness against Reel's origin and key delivery.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closeBrowser, playToEnd, type PlayerName, type PlayResult } from './play.js';
import { startReferenceOrigin, type ReferenceOrigin } from './reference-origin.js';
import {
  AES_KEY,
  CENC_KEY,
  makeProtectedReference,
  REFERENCE_FPS,
  REFERENCE_LOCATOR_ID,
  REFERENCE_SECONDS,
  referenceKeys,
} from './reference-protected-media.js';

type Stream = 'hls' | 'dash' | 'hls-cenc';

function report(label: string, r: PlayResult): string {
  return (
    `${label}: state=${r.state} ended=${r.ended} t=${r.currentTime.toFixed(3)}/${r.duration.toFixed(3)} frames=${r.decodedFrames}` +
    ` wall=${r.wallMs}ms errors=${JSON.stringify(r.errors)} drmErrors=${JSON.stringify(r.drmErrors)} keyRequests=${JSON.stringify(r.keyRequests)}` +
    ` wire=${JSON.stringify(r.wireKeyRequests)} warnings=${JSON.stringify(r.warnings)}\nlog:\n  ${r.log.join('\n  ')}`
  );
}

function assertPlayedThrough(label: string, r: PlayResult): void {
  const why = report(label, r);
  assert.deepEqual(r.errors, [], why);
  assert.equal(r.ended, true, why);
  assert.ok(Math.abs(r.duration - REFERENCE_SECONDS) <= 0.5, `duration ≈ ${REFERENCE_SECONDS}: ${why}`);
  assert.ok(Math.abs(r.currentTime - r.duration) <= 0.5, `currentTime ≈ duration: ${why}`);
  // Decoded frames are decrypted frames: the decoder never sees the ciphertext of a playable frame.
  assert.ok(r.decodedFrames > 0.8 * REFERENCE_SECONDS * REFERENCE_FPS, `decoded frames: ${why}`);
  assert.equal(r.videoWidth, 640, why);
  assert.deepEqual(r.drmErrors, [], why);
}

/** Every key/licence request carried the token and was answered 200, as the page and the network saw it. */
function assertKeysFetchedWithToken(label: string, r: PlayResult, kind: 'key' | 'license', token: string, origin: ReferenceOrigin): void {
  const why = report(label, r);
  assert.ok(r.keyRequests.length > 0, `the player asked for a ${kind}: ${why}`);
  for (const k of r.keyRequests) {
    assert.equal(k.kind, kind, why);
    assert.equal(k.status, 200, why);
    assert.equal(k.withToken, true, why);
  }
  assert.equal(r.wireKeyRequests.length, r.keyRequests.length, why);
  for (const w of r.wireKeyRequests) assert.equal(w.authorization, `Bearer ${token}`, why);
  assert.ok(origin.keyRequests.length > 0 && origin.keyRequests.every((k) => k.status === 200 && k.tokenVia === 'header'), JSON.stringify(origin.keyRequests));
  assert.deepEqual(origin.mediaRequestsWithToken, [], 'playlists and segments go without the token');
}

describe('protected playback harness against reference encrypted streams', { timeout: 300_000 }, () => {
  let dir: string;
  let origin: ReferenceOrigin;
  const secret = crypto.randomBytes(32);
  const hls = () => `${origin.origin}/hls-aes/master.m3u8`;
  const dash = () => `${origin.origin}/dash-cenc/manifest.mpd`;
  const streamUrl = (stream: Stream) => (stream === 'hls' ? hls() : stream === 'hls-cenc' ? `${origin.origin}/hls-cenc/master.m3u8` : dash());
  const licenceUrl = () => `${origin.origin}/keydelivery/${REFERENCE_LOCATOR_ID}/clearkey`;

  before(async () => {
    dir = makeProtectedReference();
    origin = await startReferenceOrigin({ dir, locatorId: REFERENCE_LOCATOR_ID, keys: referenceKeys(), secret });
  });
  after(async () => {
    await closeBrowser();
    await origin?.close();
  });
  const fresh = () => {
    origin.keyRequests.length = 0;
    origin.mediaRequestsWithToken.length = 0;
  };

  test('the reference streams are encrypted, and decrypt to the clear media with their keys (ffmpeg, node crypto)', () => {
    // CENC: each segment, after its init segment, decrypts with ffmpeg to exactly the clear segment's frames.
    // (ffmpeg 5.1 mis-indexes senc across several styp/sidx fragments in one file: segments are checked one by one.)
    const frames = (file: string, key?: Buffer) =>
      execFileSync('ffmpeg', ['-v', 'quiet', ...(key ? ['-decryption_key', key.toString('hex')] : []), '-i', file, '-f', 'framemd5', '-'], {
        maxBuffer: 64 << 20,
      })
        .toString()
        .split('\n')
        .filter((l) => l && !l.startsWith('#'));
    const tmp = fs.mkdtempSync(path.join(dir, '..', 'cenc-check-'));
    try {
      let checked = 0;
      for (const stream of [0, 1]) {
        const chunks = fs.readdirSync(path.join(dir, 'dash-cenc')).filter((f) => f.startsWith(`chunk-stream${stream}-`));
        assert.ok(chunks.length >= 3);
        for (const chunk of chunks) {
          const join = (variant: string) => {
            const file = path.join(tmp, `${variant}-${chunk}.mp4`);
            fs.writeFileSync(
              file,
              Buffer.concat([fs.readFileSync(path.join(dir, variant, `init-stream${stream}.m4s`)), fs.readFileSync(path.join(dir, variant, chunk))]),
            );
            return file;
          };
          const clear = frames(join('dash-clear'));
          assert.ok(clear.length > 0);
          assert.deepEqual(frames(join('dash-cenc'), CENC_KEY), clear, `${chunk} decrypts to the clear frames`);
          // A wrong key gives other frames, or none (the decoder fails on the noise).
          let wrong: string[] | undefined;
          try {
            wrong = frames(join('dash-cenc'), Buffer.alloc(16));
          } catch {
            wrong = undefined;
          }
          assert.notDeepEqual(wrong, clear, `${chunk} is not clear`);
          checked++;
        }
      }
      assert.ok(checked >= 6);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    // AES-128: every segment is CBC with PKCS#7 under the key and the playlist's IV, and holds MPEG-TS packets.
    const playlist = fs.readFileSync(path.join(dir, 'hls-aes', 'index.m3u8'), 'utf8');
    const keyLine = /#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)",IV=0x([0-9a-fA-F]{32})/.exec(playlist);
    assert.ok(keyLine, playlist);
    assert.match(keyLine[1], new RegExp(`^/keydelivery/${REFERENCE_LOCATOR_ID}/aes/[0-9a-f-]{36}$`));
    const segments = playlist.split('\n').filter((l) => l.endsWith('.ts'));
    assert.ok(segments.length >= 3);
    for (const seg of segments) {
      const cipherText = fs.readFileSync(path.join(dir, 'hls-aes', seg));
      const isTs = (b: Buffer) => b.length % 188 === 0 && b.every((_, i) => i % 188 !== 0 || b[i] === 0x47);
      assert.equal(isTs(cipherText), false, `${seg} is not clear`);
      const d = crypto.createDecipheriv('aes-128-cbc', AES_KEY, Buffer.from(keyLine[2], 'hex'));
      assert.ok(isTs(Buffer.concat([d.update(cipherText), d.final()])), `${seg} decrypts to MPEG-TS`);
    }
  });

  const positives: Array<{ player: PlayerName; stream: Stream; kind: 'key' | 'license' }> = [
    { player: 'hls.js', stream: 'hls', kind: 'key' },
    { player: 'shaka', stream: 'hls', kind: 'key' },
    { player: 'shaka', stream: 'dash', kind: 'license' },
    { player: 'dash.js', stream: 'dash', kind: 'license' },
    { player: 'shaka', stream: 'hls-cenc', kind: 'key' },
  ];
  const described: Record<Stream, string> = {
    hls: 'AES-128 HLS',
    dash: 'CENC DASH through the ClearKey licence server',
    'hls-cenc': 'CENC HLS-CMAF (identity key fetched for ClearKey)',
  };
  for (const c of positives) {
    const what = described[c.stream];
    test(`${c.player} plays ${what} to the end, sending the token on ${c.kind} requests only`, async () => {
      fresh();
      const token = await origin.token();
      const r = await playToEnd({
        url: streamUrl(c.stream),
        player: c.player,
        timeoutMs: 40_000,
        playbackRate: 4,
        name: `protected-ref-${c.player}-${c.stream}`,
        drm: { token, ...(c.stream === 'dash' ? { clearKeyLicenseUrl: licenceUrl() } : {}) },
      });
      assertPlayedThrough(`${c.player} ${c.stream}`, r);
      assertKeysFetchedWithToken(`${c.player} ${c.stream}`, r, c.kind, token, origin);
    });
  }

  test('the token can go as ?token= instead (hls.js key, dash.js licence)', async () => {
    for (const c of [
      { player: 'hls.js' as const, stream: 'hls' as const },
      { player: 'dash.js' as const, stream: 'dash' as const },
    ]) {
      fresh();
      const token = await origin.token();
      const r = await playToEnd({
        url: streamUrl(c.stream),
        player: c.player,
        timeoutMs: 40_000,
        drm: { token, tokenIn: 'query', ...(c.stream === 'dash' ? { clearKeyLicenseUrl: licenceUrl() } : {}) },
      });
      assertPlayedThrough(`${c.player} query token`, r);
      const why = report(`${c.player} query token`, r);
      assert.ok(r.wireKeyRequests.length > 0, why);
      for (const w of r.wireKeyRequests) {
        assert.equal(new URL(w.url).searchParams.get('token'), token, why);
        assert.equal(w.authorization, undefined, why);
      }
      assert.ok(
        origin.keyRequests.length > 0 && origin.keyRequests.every((k) => k.status === 200 && k.tokenVia === 'query'),
        JSON.stringify(origin.keyRequests),
      );
    }
  });

  const negatives: Array<{ player: PlayerName; stream: Stream; kind: 'key' | 'license' }> = [
    { player: 'hls.js', stream: 'hls', kind: 'key' },
    { player: 'shaka', stream: 'dash', kind: 'license' },
  ];
  for (const c of negatives) {
    test(`${c.player} without a token: the ${c.kind} request is refused (401) and the player stops with a DRM error`, async () => {
      fresh();
      const r = await playToEnd({
        url: streamUrl(c.stream),
        player: c.player,
        timeoutMs: 30_000,
        drm: c.stream === 'dash' ? { clearKeyLicenseUrl: licenceUrl() } : {},
      });
      const why = report(`${c.player} no token`, r);
      assert.equal(r.state, 'error', why);
      assert.equal(r.timedOut, false, why);
      assert.ok(r.keyRequests.length > 0, why);
      assert.ok(
        r.keyRequests.every((k) => k.kind === c.kind && k.status === 401 && !k.withToken),
        why,
      );
      assert.ok(r.drmErrors.length > 0, `a DRM/key error is reported: ${why}`);
      assert.ok(
        r.errors.some((e) => e.startsWith('HTTP 401')),
        why,
      );
      assert.ok(r.decodedFrames < REFERENCE_FPS, `no content was decoded: ${why}`);
      assert.ok(origin.keyRequests.length > 0 && origin.keyRequests.every((k) => k.status === 401 && k.tokenVia === 'none'));
    });
  }

  test('a token for another issuer is refused the same way (Shaka, AES-128 HLS)', async () => {
    fresh();
    const { SignJWT } = await import('jose');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://elsewhere.test').setExpirationTime('5m').sign(secret);
    const r = await playToEnd({ url: hls(), player: 'shaka', timeoutMs: 30_000, drm: { token: forged } });
    const why = report('shaka forged token', r);
    assert.equal(r.state, 'error', why);
    assert.ok(r.keyRequests.length > 0 && r.keyRequests.every((k) => k.status === 401 && k.withToken), why);
    assert.ok(r.drmErrors.length > 0, why);
  });
});

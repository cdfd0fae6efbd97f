import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startTestServer, type TestServer } from '../support/server.js';
import { ApiClient, login, tokenFromSession } from '../support/api.js';
import { request } from '../support/http.js';
import { createRecordingAsset, liveEventBody, loopbackOnly } from '../support/live-events.js';
import { closeBrowser, openPlayer, type LiveInfo, type PlayerName, type PlayerSession } from './players/play.js';

/**
 * A live event end to end in real players: ffmpeg pushes a generated source in real time over RTMP into a running
 * pass-through event, a live output records it into an asset with a 2-minute DVR window, and hls.js, dash.js and
 * Shaka (in Debian's Chromium) take turns on the same push, through the streaming endpoint's host. Each joins live,
 * seeks back inside the DVR window, plays from there, and returns to the live edge.
 *
 * Segments are 2 s (a keyframe every 50 frames at 25 fps). "Near the edge" is what the players aim for, 3 segments
 * behind the newest one (hls.js `liveSyncDurationCount`, Shaka's and dash.js's live delay), plus 2 segments for a
 * segment that is being recorded and a playlist or manifest that has not been reloaded yet. The seek goes further
 * back than that, so a player that ignored it (or jumped back to live on its own) fails.
 */
describe('real players on a live push: join live, seek back in the DVR window, return to live', () => {
  let server: TestServer;
  let encoder: ChildProcess | undefined;
  let encoderErr = '';
  let encoderStartMs = 0;
  let host: string;
  const V = '/api/v1/projects/default/media';
  const locatorId = crypto.randomUUID();
  const segmentSec = 2;
  const nearEdgeSec = (3 + 2) * segmentSec;
  const seekBackSec = 16;
  /** A cap on the push, in case `after` never runs; the push is stopped once every player has had its turn. */
  const pushCapSec = 150;

  before(async () => {
    server = await startTestServer('sqlite', { REEL_LIVE_RTMP_PORT: '0', REEL_LOG_LEVEL: 'warn' });
    const api = new ApiClient(server.url).withToken(
      (await tokenFromSession(server.url, await login(server.url, server.adminEmail, server.adminPassword))).token,
    );
    const root = path.join(server.localArea(), 'live');
    await createRecordingAsset(api, V, root, { storageName: 'live', assetName: 'recording' });
    const created = await api.put(`${V}/liveEvents/stage`, liveEventBody({ inputIpAllow: loopbackOnly }));
    assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
    const endpoints = created.body.properties.input.endpoints as Array<{ protocol: string; url: string }>;
    const rtmpUrl = endpoints.find((e) => e.protocol === 'RTMP')?.url;
    assert.ok(rtmpUrl, `an RTMP endpoint: ${JSON.stringify(endpoints)}`);
    assert.equal((await api.post(`${V}/liveEvents/stage/start`)).status, 200);
    const output = await api.put(`${V}/liveEvents/stage/liveOutputs/dvr`, {
      properties: { assetName: 'recording', archiveWindowLength: 'PT2M', manifestName: 'stage' },
    });
    assert.equal(output.status, 201, JSON.stringify(output.body));
    const locator = await api.put(`${V}/streamingLocators/stage`, {
      properties: { assetName: 'recording', streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: locatorId },
    });
    assert.equal(locator.status, 201, JSON.stringify(locator.body));
    host = `http://${(await api.get(`${V}/streamingEndpoints/default`)).body.properties.hostName as string}`;

    encoderStartMs = Date.now();
    encoder = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
        ...['-c:a', 'aac', '-b:a', '96k', '-t', String(pushCapSec), '-f', 'flv', `${rtmpUrl}/stream`],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    encoder.stderr?.on('data', (d: Buffer) => (encoderErr += d.toString()));
    // The locator answers 404 until the first segment is recorded: players join once there is something to play.
    const manifest = `${server.url}/${locatorId}/stage.ism/manifest(format=m3u8-cmaf)`;
    for (let i = 0; (await request(manifest)).status !== 200; i++) {
      assert.ok(i < 150 && encoder.exitCode === null, `the live manifest never appeared: ${encoderErr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  after(async () => {
    encoder?.kill('SIGKILL');
    await closeBrowser();
    await server?.close();
  });

  const cases: Array<[PlayerName, string]> = [
    ['hls.js', 'm3u8-cmaf'],
    ['dash.js', 'mpd-time-cmaf'],
    ['shaka', 'mpd-time-cmaf'],
    ['shaka', 'm3u8-cmaf'],
  ];
  for (const [player, format] of cases) {
    it(`${player} plays ${format} live, seeks ${seekBackSec} s back inside the DVR window, and returns to the live edge`, async (t) => {
      assert.equal(encoder?.exitCode, null, `the encoder is still pushing: ${encoderErr}`);
      const url = `${host}/${locatorId}/stage.ism/manifest(format=${format})`;
      const session = await openPlayer({ url, player, startAtLiveEdge: true });
      try {
        await exercise(t, session, `${player}-${format}`);
      } finally {
        await session.close();
      }
    });
  }

  const behind = (i: LiveInfo) => i.edge - i.currentTime;
  /** Seconds of source the encoder has sent minus the playhead: how far behind the camera the viewer is. */
  const behindEncoder = (i: LiveInfo) => (Date.now() - encoderStartMs) / 1000 - i.currentTime;
  const describeInfo = (i: LiveInfo) =>
    `t=${i.currentTime.toFixed(2)} window=[${i.windowStart.toFixed(2)}, ${i.edge.toFixed(2)}] ` +
    `behind edge ${behind(i).toFixed(2)} s, behind the encoder ${behindEncoder(i).toFixed(2)} s, ${i.decodedFrames} frames`;

  /** Waits until the playhead has moved `seconds` past `from` with frames decoded all the way, and returns that reading. */
  const playsOn = (session: PlayerSession, from: LiveInfo, seconds: number, what: string) =>
    session.waitForLive(
      (i) => !i.paused && !i.seeking && i.currentTime >= from.currentTime + seconds && i.decodedFrames >= from.decodedFrames + seconds * 20,
      what,
      (seconds + 4 * segmentSec) * 1000,
    );

  async function exercise(t: TestContext, session: PlayerSession, name: string): Promise<void> {
    // Join: a live stream, playing near its edge, with an edge that moves on.
    const joined = await session.waitForLive((i) => i.isLive && !i.paused && i.currentTime > 0 && i.decodedFrames > 0, 'joins live', 30_000);
    const playing = await playsOn(session, joined, 2 * segmentSec, 'plays live');
    assert.ok(playing.isLive, 'the player treats the stream as live');
    assert.ok(behind(playing) <= nearEdgeSec, `joins near the edge: ${describeInfo(playing)}`);
    const grown = await session.waitForLive((i) => i.edge > joined.edge, 'the live edge moves on', 3 * segmentSec * 1000);
    t.diagnostic(`${name} live: ${describeInfo(grown)}`);

    // Seek back: once the DVR window reaches that far (plus a segment, so the target is not at the window's start).
    const deep = await session.waitForLive(
      (i) => i.edge - i.windowStart >= seekBackSec + segmentSec,
      `a DVR window of ${seekBackSec + segmentSec} s`,
      (seekBackSec + 4 * segmentSec) * 1000,
    );
    const target = await session.seekBehindEdge(seekBackSec);
    assert.ok(target >= deep.windowStart, `the target ${target} is inside the window [${deep.windowStart}, ${deep.edge}]`);
    const landed = await session.waitForLive(
      (i) => !i.seeking && !i.paused && i.readyState >= 3 && Math.abs(i.currentTime - target) <= segmentSec,
      `lands at ${target.toFixed(2)}`,
      5 * segmentSec * 1000,
    );
    assert.ok(landed.currentTime < deep.currentTime, `lands behind where it played live: ${describeInfo(landed)} (live at ${deep.currentTime})`);
    const back = await playsOn(session, landed, 2 * segmentSec, 'plays from the earlier position');
    assert.ok(behind(back) >= seekBackSec - segmentSec, `stays back in the window: ${describeInfo(back)}`);
    t.diagnostic(`${name} back: target ${target.toFixed(2)}, ${describeInfo(back)}`);

    // Return to live: near the edge again, and playing on from there.
    await session.goToLive();
    const returned = await session.waitForLive(
      (i) => !i.seeking && !i.paused && i.currentTime > back.currentTime + seekBackSec / 2 && behind(i) <= nearEdgeSec,
      'returns near the live edge',
      5 * segmentSec * 1000,
    );
    const live = await playsOn(session, returned, segmentSec, 'plays on at the live edge');
    assert.ok(behind(live) <= nearEdgeSec, `near the edge: ${describeInfo(live)}`);
    t.diagnostic(`${name} returned: ${describeInfo(live)}`);

    await session.screenshot(`live-push-${name}`);
    assert.deepEqual(await session.errors(), [], (await session.log()).slice(-20).join('\n'));
  }
});

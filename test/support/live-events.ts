import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { ApiClient } from './api.js';

// The server runs in the test's process: ffmpeg runs asynchronously, never with *Sync.
const run = promisify(execFile);

/**
 * A test FLV source made by ffmpeg: testsrc2 video (25 fps, H.264 with a keyframe every `gopFrames` frames and no
 * scene-cut keyframes, so GOPs are exactly that long) and a 440 Hz sine (AAC).
 */
export async function makeFlvSource(file: string, options: { seconds: number; gopFrames?: number; size?: string }): Promise<void> {
  const { seconds, gopFrames = 25, size = '640x360' } = options;
  const gop = String(gopFrames);
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '96k', '-f', 'flv', file],
  ]);
}

/**
 * A real-time ffmpeg push of `file` to `url` (stream copy, `extraArgs` as input options before `-i`); `done` resolves
 * with ffmpeg's exit code and its error output.
 */
export function pushRtmp(file: string, url: string, extraArgs: string[] = []): { done: Promise<{ code: number; err: string }>; kill(): void } {
  const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', ...extraArgs, '-i', file, '-c', 'copy', '-f', 'flv', url], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? 1, err: err.trim() }))),
    kill: () => child.kill('SIGKILL'),
  };
}

/** An input IP allow rule, as the live event API takes it. */
export interface IpAllowRule {
  name: string;
  address: string;
  subnetPrefixLength: number;
}

/** Admits only the loopback network (the tests push from this host). */
export const loopbackOnly: IpAllowRule[] = [{ name: 'loopback', address: '127.0.0.1', subnetPrefixLength: 8 }];

/**
 * The PUT body of a live event (default: passthrough, RTMP) with an open preview; its input admits `inputIpAllow`
 * (default: anyone).
 */
export function liveEventBody(
  options: {
    description?: string;
    streamOptions?: string[];
    encoding?: Record<string, unknown>;
    streamingProtocol?: 'RTMP' | 'SRT';
    keyFrameIntervalDuration?: string;
    accessToken?: string;
    inputIpAllow?: Array<IpAllowRule | Record<string, unknown>>;
  } = {},
): Record<string, unknown> {
  return {
    location: 'local',
    tags: {},
    properties: {
      ...(options.description === undefined ? {} : { description: options.description }),
      useStaticHostname: false,
      streamOptions: options.streamOptions ?? ['Default'],
      encoding: options.encoding ?? { encodingType: 'PassthroughBasic' },
      input: {
        streamingProtocol: options.streamingProtocol ?? 'RTMP',
        accessToken: options.accessToken ?? crypto.randomUUID(),
        keyFrameIntervalDuration: options.keyFrameIntervalDuration ?? 'PT2S',
        timedMetadataEndpoints: [],
        accessControl: { ip: { allow: options.inputIpAllow ?? [] } },
      },
      preview: { streamingPolicyName: 'Predefined_ClearStreamingOnly', accessControl: { ip: { allow: [] } } },
    },
  };
}

/**
 * Creates live event `name` with `body` and starts it, asserting both succeed; returns its RTMP ingest URL and its
 * preview locator.
 */
export async function createAndStartLiveEvent(
  api: ApiClient,
  V: string,
  name: string,
  body: Record<string, unknown>,
): Promise<{ rtmpUrl: string; previewLocator: string }> {
  const created = await api.put(`${V}/liveEvents/${name}`, body);
  assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.body));
  const rtmpUrl = (created.body.properties.input.endpoints as Array<{ protocol: string; url: string }>).find((e) => e.protocol === 'RTMP')!.url;
  assert.equal((await api.post(`${V}/liveEvents/${name}/start`)).status, 200);
  const previewLocator = (await api.get(`${V}/liveEvents/${name}`)).body.properties.preview.previewLocator as string;
  return { rtmpUrl, previewLocator };
}

/**
 * Adds live output `out` recording into `assetName` (archive window 10 min, manifest `manifestName`) and publishes it
 * with streaming locator `locatorName` (id `locatorId`, clear streaming), asserting both are created.
 */
export async function recordAndPublish(
  api: ApiClient,
  V: string,
  options: { eventName: string; assetName: string; manifestName: string; locatorName: string; locatorId: string },
): Promise<void> {
  const output = await api.put(`${V}/liveEvents/${options.eventName}/liveOutputs/out`, {
    properties: { assetName: options.assetName, archiveWindowLength: 'PT10M', manifestName: options.manifestName },
  });
  assert.equal(output.status, 201, JSON.stringify(output.body));
  const locator = await api.put(`${V}/streamingLocators/${options.locatorName}`, {
    properties: { assetName: options.assetName, streamingPolicyName: 'Predefined_ClearStreamingOnly', streamingLocatorId: options.locatorId },
  });
  assert.equal(locator.status, 201);
}

/**
 * Local storage `storageName` rooted at `root` and asset `assetName` in its `recording` container (made on disk), for a
 * live output to record into; asserts both are created.
 */
export async function createRecordingAsset(api: ApiClient, V: string, root: string, names: { storageName: string; assetName: string }): Promise<void> {
  fs.mkdirSync(path.join(root, 'recording'), { recursive: true });
  assert.equal((await api.put(`${V}/storage/${names.storageName}`, { spec: { type: 'Local', path: root } }, { contract: false })).status, 201);
  assert.equal(
    (await api.put(`${V}/assets/${names.assetName}`, { properties: { storageAccountName: names.storageName, container: 'recording' } })).status,
    201,
  );
}

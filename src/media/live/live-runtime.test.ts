import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../shared/log.js';
import { ipAllowed, LiveRuntime } from './live-runtime.js';
import { LiveEventPipeline } from './pipeline/live-event-pipeline.js';
import type { LiveEventPlan, LiveEventStore } from './live-event-plan.js';
import type { FlvTag, IngestRequest } from './ingest/ingest-contracts.js';
import { FlvStreamReader } from './ingest/flv-stream-reader.js';
import { LocalBlobStore } from '../../storage/drivers/local.js';
import { readMp4Index } from '../packager/index.js';

const log = createLogger('silent');

/** The store as the runtime reads it: plans the test edits, as the API would write rows. */
class PlanStore implements LiveEventStore {
  readonly plans = new Map<string, LiveEventPlan>();
  async load(eventId: string) {
    const plan = this.plans.get(eventId);
    return plan && structuredClone(plan);
  }
  async listActive() {
    return [...this.plans.values()].filter((p) => p.state === 'Running' || p.state === 'Starting').map((p) => p.eventId);
  }
  async archiveTarget(): Promise<never> {
    throw new Error('no archive in this test');
  }
}

function plan(eventId: string, token: string, overrides: Partial<LiveEventPlan> = {}): LiveEventPlan {
  return {
    eventId,
    projectId: 'p1',
    name: eventId,
    state: 'Running',
    protocol: 'RTMP',
    accessToken: token,
    ipAllow: [],
    encodingType: 'PassthroughBasic',
    keyFrameIntervalSec: 2,
    lowLatency: false,
    previewLocatorId: `0000000${eventId.length}-0000-4000-8000-00000000000${eventId.length}`,
    outputs: [],
    ...overrides,
  };
}

const rtmp = (app: string, streamKey: string, remoteAddress = '127.0.0.1'): IngestRequest => ({ protocol: 'RTMP', app, streamKey, remoteAddress });

test('LiveRuntime admits an encoder only for a running event, by its token and IP rules, one at a time', async () => {
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-runtime-'));
  const store = new PlanStore();
  const runtime = new LiveRuntime({
    store,
    createPipeline: (p, runId) => new LiveEventPipeline({ eventId: p.eventId, runId, spoolDir, targetSegmentSec: p.keyFrameIntervalSec, log }),
    log,
    ingestHost: () => 'ingest.example',
    rtmpPort: () => 1935,
    rtmpsPort: () => undefined,
    srtPort: () => 6000,
  });
  try {
    store.plans.set('a', plan('a', 'token-aaaaaaaaaa'));
    store.plans.set('b', plan('b', 'token-bbbbbbbbbb', { ipAllow: [{ address: '10.0.0.0', subnetPrefixLength: 8 }] }));
    store.plans.set('c', plan('c', 'token-cccccccccc', { state: 'Stopped' }));
    await runtime.resume();

    assert.deepEqual(await runtime.admit(rtmp('nobody-knows-this', 'stream'), () => undefined), { refused: 'unknown-token' });
    assert.deepEqual(
      await runtime.admit(rtmp('token-cccccccccc', 'stream'), () => undefined),
      { refused: 'unknown-token' },
      'a stopped event is not listening',
    );
    assert.deepEqual(await runtime.admit(rtmp('token-bbbbbbbbbb', 'stream'), () => undefined), { refused: 'ip-denied' });
    const fromOffice = await runtime.admit(rtmp('token-bbbbbbbbbb', 'stream', '::ffff:10.1.2.3'), () => undefined);
    assert.ok('sink' in fromOffice && fromOffice.eventId === 'b', 'an allowed address (IPv4-mapped) is admitted');

    let kicked = 0;
    const first = await runtime.admit(rtmp('live', 'token-aaaaaaaaaa'), () => kicked++);
    assert.ok('sink' in first, 'the token as the stream key (`…/live/{token}`) names the event');
    assert.deepEqual(await runtime.admit(rtmp('token-aaaaaaaaaa', 'stream'), () => undefined), { refused: 'busy' }, 'one encoder at a time');
    first.sink.onEnd('closed');
    const second = await runtime.admit(rtmp('token-aaaaaaaaaa', 'stream'), () => kicked++);
    assert.ok('sink' in second, 'after the first encoder left, another may publish');
    assert.equal(runtime.health('a')?.isConnected, true);

    // Stopping the event kicks its encoder; the event no longer admits anyone.
    store.plans.get('a')!.state = 'Stopping';
    await runtime.reconcile('a');
    assert.equal(kicked, 1);
    assert.equal(runtime.health('a'), undefined);
    assert.deepEqual(await runtime.admit(rtmp('token-aaaaaaaaaa', 'stream'), () => undefined), { refused: 'unknown-token' });

    // No media yet: nothing plays live (the origin falls back to the asset).
    assert.equal(runtime.forPreviewLocator(plan('b', '').previewLocatorId), undefined);
    assert.deepEqual(runtime.ingestEndpoints({ eventId: 'a', protocol: 'RTMP', accessToken: 'token-aaaaaaaaaa' }), [
      { protocol: 'RTMP', url: 'rtmp://ingest.example:1935/token-aaaaaaaaaa' },
    ]);
    assert.deepEqual(runtime.ingestEndpoints({ eventId: 'z', protocol: 'SRT', accessToken: 'token-zzzzzzzzzz' }), [
      { protocol: 'SRT', url: 'srt://ingest.example:6000?passphrase=token-zzzzzzzzzz&pbkeylen=16' },
    ]);
  } finally {
    await runtime.close();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
});

const allowAll = [{ address: '0.0.0.0', subnetPrefixLength: 0 }];
const office = [{ address: '10.0.0.0', subnetPrefixLength: 8 }];

test('IP allow lists: the encoder address is checked against the list; an empty list or a /0 entry admits every address', () => {
  assert.equal(ipAllowed('10.1.2.3', office), true);
  assert.equal(ipAllowed('::ffff:10.1.2.3', office), true);
  assert.equal(ipAllowed('127.0.0.1', office), false);
  assert.equal(ipAllowed('127.0.0.1', []), true);
  assert.equal(ipAllowed('203.0.113.9', allowAll), true);
});

test('LiveRuntime applies an SRT event’s IP allow list to the caller address the SRT front reports, and its endpoint names the shared port', async () => {
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-runtime-'));
  const store = new PlanStore();
  const runtime = new LiveRuntime({
    store,
    createPipeline: (p, runId) => new LiveEventPipeline({ eventId: p.eventId, runId, spoolDir, targetSegmentSec: p.keyFrameIntervalSec, log }),
    createSrtListener: async () => ({ port: 6000, close: async () => undefined }),
    log,
    ingestHost: () => 'ingest.example',
    rtmpPort: () => undefined,
    rtmpsPort: () => undefined,
    srtPort: () => 6000,
  });
  try {
    store.plans.set('all', plan('all', 'passphrase-aaaaaaaaaa', { protocol: 'SRT', ipAllow: allowAll }));
    store.plans.set('narrow', plan('narrow', 'passphrase-bbbbbbbbbb', { protocol: 'SRT', ipAllow: office }));
    await runtime.resume();
    // What the SRT front asks: the event the passphrase found, the caller's address.
    const srt = (eventId: string, remoteAddress: string): IngestRequest => ({ protocol: 'SRT', app: eventId, streamKey: '', remoteAddress });
    const admitted = await runtime.admit(srt('all', '198.51.100.7'), () => undefined);
    assert.ok('sink' in admitted && admitted.eventId === 'all', JSON.stringify(admitted));
    assert.deepEqual(await runtime.admit(srt('narrow', '198.51.100.7'), () => undefined), { refused: 'ip-denied' });
    const fromOffice = await runtime.admit(srt('narrow', '10.20.30.40'), () => undefined);
    assert.ok('sink' in fromOffice && fromOffice.eventId === 'narrow', JSON.stringify(fromOffice));
    assert.deepEqual(runtime.ingestEndpoints({ eventId: 'narrow', protocol: 'SRT', accessToken: 'passphrase-bbbbbbbbbb' }), [
      { protocol: 'SRT', url: 'srt://ingest.example:6000?passphrase=passphrase-bbbbbbbbbb&pbkeylen=16' },
    ]);
  } finally {
    await runtime.close();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
});

test('LiveRuntime: a restarted process continues a running event’s run, and writes the archives of one caught stopping', async () => {
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-live-resume-'));
  const archiveDir = path.join(spoolDir, 'archive');
  const archives = new LocalBlobStore({ path: archiveDir, allowedRoots: [spoolDir] });
  await archives.checkAccess();
  await archives.createContainer('assets');
  const plans = new PlanStore();
  // As the real store: Stopping events are active too, and archives go to an asset's folder.
  const store: LiveEventStore & { plans: Map<string, LiveEventPlan> } = {
    plans: plans.plans,
    load: (eventId) => plans.load(eventId),
    listActive: async () => [...plans.plans.values()].filter((p) => p.state !== 'Stopped').map((p) => p.eventId),
    archiveTarget: async (assetId) => ({ store: archives, container: 'assets', prefix: assetId }),
  };
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  const output = { outputId: 'o1', name: 'rec', assetId: 'asset1', manifestName: 'rec', archiveWindowSec: 3600, createdMs: clock - 60_000 };
  store.plans.set('r', plan('r', 'token-rrrrrrrrrr', { keyFrameIntervalSec: 1, outputs: [output] }));
  const process = () =>
    new LiveRuntime({
      store,
      createPipeline: async (p, runId, adopt) => {
        const options = { eventId: p.eventId, spoolDir, targetSegmentSec: p.keyFrameIntervalSec, log, now: () => clock };
        return (adopt ? await LiveEventPipeline.adopt(options) : undefined) ?? new LiveEventPipeline({ ...options, runId });
      },
      log,
      ingestHost: () => 'ingest.example',
      rtmpPort: () => 1935,
      rtmpsPort: () => undefined,
      srtPort: () => 6000,
      now: () => clock,
    });
  const flv = execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-f', 'flv', 'pipe:1'],
    ],
    { maxBuffer: 16 << 20 },
  );
  const tags: FlvTag[] = [];
  new FlvStreamReader((t) => tags.push({ ...t, data: Uint8Array.from(t.data) })).push(flv);
  const pushAll = async (runtime: LiveRuntime) => {
    const admitted = await runtime.admit(rtmp('token-rrrrrrrrrr', 'stream'), () => undefined);
    assert.ok('sink' in admitted, JSON.stringify(admitted));
    for (const tag of tags) admitted.sink.onTag(tag);
    admitted.sink.onEnd('closed');
  };
  const segments = (runtime: LiveRuntime) => runtime.forAsset('asset1')?.presentation.tracks[0].segments.length ?? 0;
  try {
    const first = process();
    await first.resume();
    await pushAll(first);
    await first.close();
    const recorded = fs.readdirSync(path.join(spoolDir, 'r'));
    assert.equal(recorded.length, 1);

    clock += 30_000;
    const second = process();
    await second.resume();
    assert.deepEqual(fs.readdirSync(path.join(spoolDir, 'r')), recorded, 'the run continues: no new run folder');
    assert.equal(segments(second), 3, 'the output plays what was recorded before the restart');
    await pushAll(second);
    await second.close();

    // The process stops in the middle of a stop: the next one writes the archives of the whole run.
    store.plans.get('r')!.state = 'Stopping';
    const third = process();
    await third.resume();
    const archived = fs.readdirSync(path.join(archiveDir, 'assets', 'asset1')).sort();
    assert.deepEqual(archived, ['rec.ism', 'rec_video.mp4']);
    const fh = await fsp.open(path.join(archiveDir, 'assets', 'asset1', 'rec_video.mp4'), 'r');
    const { size } = await fh.stat();
    const index = await readMp4Index(size, async (offset, length) => {
      const b = Buffer.alloc(length);
      await fh.read(b, 0, length, offset);
      return b;
    });
    await fh.close();
    assert.equal(index.tracks[0].samples.count, 2 * tags.filter((t) => t.type === 9 && t.data[1] === 1).length, 'both pushes are archived');
    assert.equal(fs.existsSync(path.join(spoolDir, 'r')), false, 'the spool is removed once archived');
    await third.close();
  } finally {
    await archives.close();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
});

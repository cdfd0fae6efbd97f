import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../shared/log.js';
import { ipAllowed, LiveRuntime } from './live-runtime.js';
import { LiveEventPipeline } from './pipeline/live-event-pipeline.js';
import type { LiveEventPlan, LiveEventStore } from './live-event-plan.js';
import type { IngestRequest } from './ingest/ingest-contracts.js';

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
    srtPortBase: 6000,
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

test('IP allow lists: a known address is checked against the list, an unknown one (SRT) passes only a list open to all', () => {
  assert.equal(ipAllowed('10.1.2.3', office), true);
  assert.equal(ipAllowed('::ffff:10.1.2.3', office), true);
  assert.equal(ipAllowed('127.0.0.1', office), false);
  assert.equal(ipAllowed('127.0.0.1', []), true);
  assert.equal(ipAllowed('', []), true);
  assert.equal(ipAllowed('', allowAll), true);
  assert.equal(ipAllowed('', office), false);
});

test('LiveRuntime admits an SRT encoder under an allow-all list and refuses it under a narrower one (its address is unknown)', async () => {
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
    srtPortBase: 6000,
  });
  try {
    store.plans.set('all', plan('all', 'passphrase-aaaaaaaaaa', { protocol: 'SRT', ipAllow: allowAll }));
    store.plans.set('narrow', plan('narrow', 'passphrase-bbbbbbbbbb', { protocol: 'SRT', ipAllow: office }));
    await runtime.resume();
    // What the SRT listener asks: the event it was opened for, no address.
    const srt = (eventId: string): IngestRequest => ({ protocol: 'SRT', app: eventId, streamKey: '', remoteAddress: '' });
    const admitted = await runtime.admit(srt('all'), () => undefined);
    assert.ok('sink' in admitted && admitted.eventId === 'all', JSON.stringify(admitted));
    assert.deepEqual(await runtime.admit(srt('narrow'), () => undefined), { refused: 'ip-denied' });
  } finally {
    await runtime.close();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
});

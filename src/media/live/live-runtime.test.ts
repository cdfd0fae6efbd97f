import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../shared/log.js';
import { ipAllowed, LiveRuntime, type EventPipeline } from './live-runtime.js';
import type { LiveEventPlan } from './live-event-plan.js';

const allowAll = [{ address: '0.0.0.0', subnetPrefixLength: 0 }];
const office = [{ address: '10.0.0.0', subnetPrefixLength: 8 }];

describe('live runtime: IP allow lists', () => {
  it('checks a known address against the list; an empty list allows all', () => {
    assert.equal(ipAllowed('10.1.2.3', office), true);
    assert.equal(ipAllowed('::ffff:10.1.2.3', office), true);
    assert.equal(ipAllowed('127.0.0.1', office), false);
    assert.equal(ipAllowed('127.0.0.1', []), true);
  });

  it('an unknown address (SRT) passes only a list that allows every address', () => {
    assert.equal(ipAllowed('', []), true);
    assert.equal(ipAllowed('', allowAll), true);
    assert.equal(ipAllowed('', office), false);
  });

  it('admits an SRT encoder to an event whose list is AllowAll, and refuses it under a narrower list', async () => {
    const plan = (ipAllow: LiveEventPlan['ipAllow']): LiveEventPlan => ({
      eventId: 'e1',
      projectId: 'p',
      name: 'srt',
      state: 'Running',
      protocol: 'SRT',
      accessToken: 'a-passphrase-of-36-characters-0000000',
      ipAllow,
      encodingType: 'PassthroughBasic',
      keyFrameIntervalSec: 2,
      lowLatency: false,
      previewLocatorId: 'preview',
      outputs: [],
    });
    for (const [ipAllow, admitted] of [
      [allowAll, true],
      [office, false],
    ] as const) {
      const pipeline: EventPipeline = {
        attach: () => ({ onTag: () => undefined, onEnd: () => undefined }),
        presentation: () => assert.fail('not played'),
        startOutput: () => undefined,
        finishOutput: async () => undefined,
        health: () => ({ bitrateBps: 0, frameRate: 0 }),
        end: async () => undefined,
        close: async () => undefined,
        removeSpool: async () => undefined,
      };
      const runtime = new LiveRuntime({
        store: { load: async () => plan([...ipAllow]), listActive: async () => [], archiveTarget: async () => assert.fail('no archive') },
        createPipeline: () => pipeline,
        createSrtListener: async () => ({ port: 6000, close: async () => undefined }),
        log: createLogger('silent'),
        ingestHost: () => 'localhost',
        rtmpPort: () => undefined,
        rtmpsPort: () => undefined,
      });
      await runtime.reconcile('e1');
      // What the SRT listener asks: the event it was opened for, no address.
      const answer = await runtime.admit({ protocol: 'SRT', app: 'e1', streamKey: '', remoteAddress: '' }, () => undefined);
      assert.equal('sink' in answer, admitted, JSON.stringify(answer));
      await runtime.close();
    }
  });
});

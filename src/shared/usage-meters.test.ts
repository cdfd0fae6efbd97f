import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodedSecondsByClass, resolutionClassOf } from './usage-meters.js';

describe('usage meters: encoding resolution classes', () => {
  it('classes a picture by its shorter side: below 720 SD, up to 1080 HD, above UHD', () => {
    assert.equal(resolutionClassOf(640, 360), 'SD');
    assert.equal(resolutionClassOf(1280, 719), 'SD');
    assert.equal(resolutionClassOf(1280, 720), 'HD');
    assert.equal(resolutionClassOf(1920, 1080), 'HD');
    assert.equal(resolutionClassOf(1080, 1920), 'HD');
    assert.equal(resolutionClassOf(2560, 1440), 'UHD');
    assert.equal(resolutionClassOf(3840, 2160), 'UHD');
    assert.equal(resolutionClassOf(undefined, 480), 'SD');
  });

  it('counts the output duration once per video track, and audio only when there is no video', () => {
    const ladder = encodedSecondsByClass({
      durationSec: 10,
      tracks: [
        { media: 'video', width: 640, height: 360 },
        { media: 'video', width: 1280, height: 720 },
        { media: 'video', width: 1920, height: 1080 },
        { media: 'audio' },
      ],
    });
    assert.deepEqual(ladder, { SD: 10, HD: 20 });
    assert.deepEqual(encodedSecondsByClass({ durationSec: 30, tracks: [{ media: 'audio' }] }), { Audio: 30 });
    assert.deepEqual(encodedSecondsByClass({ durationSec: 30, tracks: [] }), {});
  });
});

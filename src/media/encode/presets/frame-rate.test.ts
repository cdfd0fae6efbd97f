import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capFrameRate, parseFrameRate, snapFrameRate } from './frame-rate.js';

describe('frame rates', () => {
  it('snaps probed rates to the nearest broadcast rate', () => {
    assert.deepEqual(
      [10385000 / 346453, 60, 59.94, 24, 23.976, 25.001, 12.5, 1000].map((v) => snapFrameRate(v).text),
      ['30000/1001', '60', '60000/1001', '24', '24000/1001', '25', '12.5', '1000'],
    );
  });
  it('halves fast rates down to a cap', () => {
    assert.deepEqual(
      [60, 59.94, 50, 120, 30, 24].map((v) => capFrameRate(snapFrameRate(v), 30).text),
      ['30', '30000/1001', '25', '30', '30', '24'],
    );
  });
  it('reads AMS frameRate strings', () => {
    assert.deepEqual(['30000/1001', '29.97', '30', '23.976', '15', '0', '1/0', 'x', '200'].map(parseFrameRate), [
      '30000/1001',
      '30000/1001',
      '30',
      '24000/1001',
      '15',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

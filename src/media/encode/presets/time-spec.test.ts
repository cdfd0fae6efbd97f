import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTimeSpec, timeSpecToSec } from './time-spec.js';

describe('parseTimeSpec and timeSpecToSec (AMS Image start/step/range)', () => {
  const media = { durationSec: 120, frameRate: 25 };
  const cases: Array<[unknown, number | undefined]> = [
    ['PT10S', 10],
    ['10%', 12],
    ['100%', 120],
    ['50', 2],
    [50, 2],
    ['0', 0],
    ['PT1M', 60],
  ];
  for (const [text, seconds] of cases) {
    it(`${JSON.stringify(text)} is ${seconds} s of a 120 s, 25 fps input`, () => {
      const spec = parseTimeSpec(text);
      assert.ok(spec && spec.kind !== 'best');
      assert.equal(timeSpecToSec(spec, media), seconds);
    });
  }
  it('accepts {Best} only where allowed (start)', () => {
    assert.deepEqual(parseTimeSpec('{Best}', { allowBest: true }), { kind: 'best' });
    assert.equal(parseTimeSpec('{Best}'), undefined);
  });
  it('refuses malformed values', () => {
    for (const bad of ['101%', '-5', '5s', 'PT', 1.5, null, {}, '10 %']) assert.equal(parseTimeSpec(bad), undefined, String(bad));
  });
});

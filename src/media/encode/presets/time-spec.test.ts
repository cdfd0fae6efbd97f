import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIsoDurationSec, parseTimeSpec, timeSpecToSec } from './time-spec.js';

describe('parseIsoDurationSec', () => {
  const cases: Array<[string, number | undefined]> = [
    ['PT2S', 2],
    ['PT05S', 5],
    ['PT1M30.5S', 90.5],
    ['PT1H', 3600],
    ['P1DT1S', 86401],
    ['PT0.5S', 0.5],
    ['pt10s', 10],
    ['P1W', 604800],
    ['PT', undefined],
    ['P', undefined],
    ['2S', undefined],
    ['P1M', undefined],
    ['P1Y', undefined],
    ['PT-1S', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of cases) it(`${JSON.stringify(text)} → ${expected}`, () => assert.equal(parseIsoDurationSec(text), expected));
});

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

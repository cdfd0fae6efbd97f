import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIsoDurationSec, toMkioTime } from './time.js';

it('formats timestamps with six fractional digits as MK.IO does', () => {
  assert.equal(toMkioTime('2024-03-26T14:51:19.125Z'), '2024-03-26T14:51:19.125000Z');
  assert.equal(toMkioTime(new Date('2024-03-26T14:51:19Z')), '2024-03-26T14:51:19.000000Z');
  assert.equal(toMkioTime('2024-03-26T14:51:19+02:00'), '2024-03-26T12:51:19.000000Z');
});

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
    ['P1DT2H', 93600],
    ['PT1.5H', 5400],
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

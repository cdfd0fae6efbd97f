import { it } from 'node:test';
import assert from 'node:assert/strict';
import { toMkioTime } from './time.js';

it('formats timestamps with six fractional digits as MK.IO does', () => {
  assert.equal(toMkioTime('2024-03-26T14:51:19.125Z'), '2024-03-26T14:51:19.125000Z');
  assert.equal(toMkioTime(new Date('2024-03-26T14:51:19Z')), '2024-03-26T14:51:19.000000Z');
  assert.equal(toMkioTime('2024-03-26T14:51:19+02:00'), '2024-03-26T12:51:19.000000Z');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Value } from './amf0.js';

test('AMF0 values survive an encode and decode', () => {
  const cases: Array<[string, Amf0Value]> = [
    ['number', 1234.5],
    ['negative fraction', -0.25],
    ['boolean true', true],
    ['boolean false', false],
    ['string', 'NetStream.Publish.Start'],
    ['empty string', ''],
    ['utf-8 string', 'caméra ☕'],
    ['long string', 'x'.repeat(70_000)],
    ['null', null],
    ['undefined', undefined],
    ['object', { app: 'live', tcUrl: 'rtmp://h/live', fpad: false, capabilities: 15, nested: { a: null } }],
    ['empty object', {}],
    ['ECMA array', new Amf0EcmaArray({ duration: 0, width: 640, height: 360, encoder: 'Lavf59.27.100', stereo: true })],
    ['strict array', [1, 'two', null, { three: 3 }, [4]]],
    ['date', new Date(1_700_000_000_000)],
  ];
  for (const [name, value] of cases) assert.deepEqual(decodeAmf0(encodeAmf0(value)), [value], name);
  assert.deepEqual(decodeAmf0(encodeAmf0('connect', 1, { app: 'x' }, null)), ['connect', 1, { app: 'x' }, null], 'a command: several values in a row');
});

test('AMF0 encodes the bytes the specification gives', () => {
  assert.deepEqual([...encodeAmf0('ab')], [0x02, 0x00, 0x02, 0x61, 0x62]);
  assert.deepEqual([...encodeAmf0(1)], [0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeAmf0({ a: true })], [0x03, 0x00, 0x01, 0x61, 0x01, 0x01, 0x00, 0x00, 0x09]);
  assert.deepEqual([...encodeAmf0(new Amf0EcmaArray({}))], [0x08, 0, 0, 0, 0, 0x00, 0x00, 0x09]);
  assert.deepEqual([...encodeAmf0(null, undefined)], [0x05, 0x06]);
});

test('AMF0 refuses truncated, unknown and hostile input', () => {
  const bad: Array<[string, number[]]> = [
    ['truncated number', [0x00, 1, 2]],
    ['truncated string', [0x02, 0x00, 0x05, 0x61]],
    ['object without end', [0x03, 0x00, 0x01, 0x61, 0x05]],
    ['reference marker', [0x07, 0x00, 0x01]],
    ['strict array claiming more elements than bytes', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]],
    ['nesting 1000 deep', Array.from({ length: 1000 }, () => [0x0a, 0, 0, 0, 1]).flat()],
  ];
  for (const [name, bytes] of bad) assert.throws(() => decodeAmf0(Uint8Array.from(bytes)), { code: 'InvalidAmf0' }, name);
  const proto = decodeAmf0(Uint8Array.from([0x03, 0x00, 0x09, ...Buffer.from('__proto__'), 0x03, 0x00, 0x00, 0x09, 0x00, 0x00, 0x09]));
  assert.equal(Object.getPrototypeOf(proto[0]), Object.prototype, 'a __proto__ key does not replace the prototype');
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withPssh } from './protected-init.js';

const box = (type: string, body: Uint8Array = new Uint8Array(0)): Buffer => {
  const out = Buffer.alloc(8 + body.byteLength);
  out.writeUInt32BE(out.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  return out;
};

describe('withPssh', () => {
  const init = Buffer.concat([box('ftyp', Buffer.from('iso6')), box('moov', box('mvhd', Buffer.alloc(4)))]);
  const moovAt = 12;

  it('appends elements of one or more whole boxes to moov (a key’s Widevine, PlayReady and common pssh at once)', () => {
    const a = box('pssh', Buffer.alloc(24, 1));
    const b = box('pssh', Buffer.alloc(28, 2));
    const c = box('pssh', Buffer.alloc(20, 3));
    const out = Buffer.from(withPssh(init, [Buffer.concat([a, b]), c]));
    assert.equal(out.length, init.length + a.length + b.length + c.length);
    assert.equal(out.readUInt32BE(moovAt), out.length - moovAt, 'moov grows by the boxes');
    assert.ok(out.subarray(init.length).equals(Buffer.concat([a, b, c])));
  });

  it('refuses bytes that are not whole boxes', () => {
    const a = box('pssh', Buffer.alloc(24));
    for (const bad of [a.subarray(0, 20), Buffer.concat([a, Buffer.alloc(3)]), Buffer.alloc(0)]) assert.throws(() => withPssh(init, [bad]), /not whole boxes/);
  });
});

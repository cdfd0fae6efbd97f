import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { encryptCbcs, encryptCenc, encryptEnvelope, envelopeSize } from './sample-cipher.js';

// Sizes around and well past the 64 KB slice the cipher feeds to `update`, none a multiple of 16.
const SIZES = [1, 65_535, 65_537, 200_003, 411_433];
const key = crypto.randomBytes(16);

function oneShot(algorithm: string, iv: Uint8Array, bytes: Uint8Array, padding = false): Buffer {
  const cipher = crypto.createCipheriv(algorithm, key, iv).setAutoPadding(padding);
  return Buffer.concat([cipher.update(bytes), cipher.final()]);
}

describe('sample cipher on inputs larger than one update slice', () => {
  it('cenc whole sample: one AES-CTR keystream from IV ‖ 0, equal to a single OpenSSL call', () => {
    const iv8 = crypto.randomBytes(8);
    for (const size of SIZES) {
      const clear = crypto.randomBytes(size);
      const sample = Uint8Array.from(clear);
      encryptCenc(key, iv8, sample);
      assert.deepEqual(Buffer.from(sample), oneShot('aes-128-ctr', Buffer.concat([iv8, Buffer.alloc(8)]), clear), `size ${size}`);
    }
  });

  it('cenc subsamples: the protected ranges form one keystream, clear ranges untouched', () => {
    const iv8 = crypto.randomBytes(8);
    const subsamples = [5, 70_001, 3, 150_000, 0, 1];
    const size = subsamples.reduce((a, b) => a + b, 0) + 7; // trailing bytes outside the map stay clear
    const clear = crypto.randomBytes(size);
    const sample = Uint8Array.from(clear);
    encryptCenc(key, iv8, sample, subsamples, 0, 3);
    const protectedRanges = Buffer.concat([clear.subarray(5, 70_006), clear.subarray(70_009, 220_009), clear.subarray(220_009, 220_010)]);
    const keystreamed = oneShot('aes-128-ctr', Buffer.concat([iv8, Buffer.alloc(8)]), protectedRanges);
    const expected = Buffer.from(clear);
    keystreamed.copy(expected, 5, 0, 70_001);
    keystreamed.copy(expected, 70_009, 70_001, 220_001);
    keystreamed.copy(expected, 220_009, 220_001);
    assert.deepEqual(Buffer.from(sample), expected);
  });

  it('cbcs whole sample: every full block in one CBC chain, the partial tail clear', () => {
    const iv = crypto.randomBytes(16);
    for (const size of SIZES) {
      const clear = crypto.randomBytes(size);
      const sample = Uint8Array.from(clear);
      encryptCbcs(key, iv, sample);
      const full = size - (size % 16);
      const expected = Buffer.concat([oneShot('aes-128-cbc', iv, clear.subarray(0, full)), clear.subarray(full)]);
      assert.deepEqual(Buffer.from(sample), expected, `size ${size}`);
    }
  });

  it('cbcs pattern over a large range: 1 of every 10 blocks encrypted, chained through those only', () => {
    const iv = crypto.randomBytes(16);
    const length = 2_000_011; // > 64 KB of encrypted blocks
    const clear = crypto.randomBytes(length + 9);
    const sample = Uint8Array.from(clear);
    encryptCbcs(key, iv, sample, [9, length], 0, 1);
    const range = clear.subarray(9);
    const blocks = Math.floor(length / 16);
    const picked: Buffer[] = [];
    for (let b = 0; b < blocks; b += 10) picked.push(range.subarray(b * 16, b * 16 + 16));
    const encrypted = oneShot('aes-128-cbc', iv, Buffer.concat(picked));
    const expected = Buffer.from(clear);
    for (let k = 0, b = 0; b < blocks; b += 10, k++) encrypted.copy(expected, 9 + b * 16, k * 16, k * 16 + 16);
    assert.deepEqual(Buffer.from(sample), expected);
  });

  it('HLS envelope over chunks larger than a slice equals one AES-CBC-PKCS#7 pass', () => {
    const iv = crypto.randomBytes(16);
    const parts = [crypto.randomBytes(37), crypto.randomBytes(1_300_001), crypto.randomBytes(65_536), crypto.randomBytes(0), crypto.randomBytes(70_000)];
    const expected = oneShot('aes-128-cbc', iv, Buffer.concat(parts), true);
    const chunks = parts.map((p) => Uint8Array.from(p));
    const body = Buffer.concat(encryptEnvelope(key, iv, chunks));
    assert.equal(body.byteLength, envelopeSize(parts.reduce((n, p) => n + p.byteLength, 0)));
    assert.deepEqual(body, expected);
  });
});

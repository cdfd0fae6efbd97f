import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { madeWithPassphrase, parseKeyMaterial } from './srt-key-material.js';
import {
  controlTypeOf,
  extensionType,
  handshakeType,
  inductionRequestFrom,
  inductionResponse,
  isHandshake,
  parseHandshake,
  rejection,
  rejectionOf,
  shutdownPacket,
  streamIdOf,
} from './srt-packets.js';

// Packets captured from Debian's ffmpeg 5.1 (libsrt 1.5.1) calling with passphrase=secret-pass-123&pbkeylen=16.
const induction = Buffer.from(
  '800000000000000000000652000000000000000400000002569c7527000005dc000020000000000113877e73000000000100007f000000000000000000000000',
  'hex',
);
const conclusion = Buffer.from(
  '80000000000000000000a49b000000000000000500020003569c7527000005dc00002000ffffffff13877e7385f11e320100007f0000000000000000000000000001000300010501000000bf007800000003000e122029010000000002000200000004043c216ad221186e0bb7ba6e871f5d78fda535aac2c26ebda8a1e60c0910fa112e098608bb68b59898',
  'hex',
);
// The same caller with streamid=#!::r=studio-a,m=publish.
const conclusionWithStreamId = Buffer.from(
  '800000000000000000002650000000000000000500020007243fd90e000005dc00002000ffffffff0aaa5fd4c5520c7e0100007f0000000000000000000000000001000300010501000000bf00780000000500063a3a212374733d726f6964756d2c612d6275703d6873696c0003000e12202901000000000200020000000404f8f8c45feb0a005deb9fb094e794a986d98a40c9f6fedaf77180a56a33d594c1c257853a2f51a3b0',
  'hex',
);
const passphrase = 'secret-pass-123';

describe('SRT handshake packets (captured from ffmpeg 5.1 / libsrt 1.5)', () => {
  it('reads an induction request: HSv4, type 1, no cookie', () => {
    assert.ok(isHandshake(induction));
    const hs = parseHandshake(induction);
    assert.deepEqual(
      { version: hs.version, type: hs.type, cookie: hs.cookie, socketId: hs.socketId },
      { version: 4, type: 1, cookie: 0, socketId: 0x13877e73 },
    );
  });

  it('answers it as a listener: HSv5, SRT magic, the cookie, addressed to the caller', () => {
    const response = inductionResponse(induction, 0x01020304);
    const hs = parseHandshake(response);
    assert.equal(response.length, 64);
    assert.deepEqual(
      { version: hs.version, magic: hs.extensionField, type: hs.type, cookie: hs.cookie, to: response.readUInt32BE(12) },
      { version: 5, magic: 0x4a17, type: handshakeType.induction, cookie: 0x01020304, to: 0x13877e73 },
    );
    assert.equal(induction.readUInt32BE(44), 0, 'the request is not modified');
  });

  it('reads a conclusion: HSREQ and KMREQ extensions, the echoed cookie', () => {
    const hs = parseHandshake(conclusion);
    assert.equal(hs.type, handshakeType.conclusion);
    assert.equal(hs.cookie, 0x85f11e32);
    assert.deepEqual(
      hs.extensions.map((e) => [e.type, e.data.length]),
      [
        [extensionType.hsReq, 12],
        [extensionType.kmReq, 56],
      ],
    );
    assert.equal(streamIdOf(hs), '');
  });

  it('reads the stream id, whose 32-bit words libsrt sends byte-swapped', () => {
    assert.equal(streamIdOf(parseHandshake(conclusionWithStreamId)), '#!::r=studio-a,m=publish');
  });

  it('finds the passphrase from the key material: the right one unwraps the key, others do not', async () => {
    for (const packet of [conclusion, conclusionWithStreamId]) {
      const km = parseKeyMaterial(parseHandshake(packet).extensions.find((e) => e.type === extensionType.kmReq)!.data);
      assert.ok(km);
      assert.equal(km.keyLength, 16);
      assert.equal(km.salt.length, 16);
      assert.equal(await madeWithPassphrase(km, passphrase), true);
      assert.equal(await madeWithPassphrase(km, 'secret-pass-124'), false);
      assert.equal(await madeWithPassphrase(km, 'another-event-token-0000'), false);
    }
  });

  it('refuses to read key material it does not know', () => {
    assert.equal(parseKeyMaterial(Buffer.alloc(56)), undefined);
    assert.equal(parseKeyMaterial(Buffer.alloc(8)), undefined);
  });

  it('makes the backend induction from a conclusion, and rejections and shutdowns', () => {
    const request = inductionRequestFrom(conclusion);
    assert.deepEqual(request, fixTimestamp(induction, request));
    const rejected = rejectionOf(conclusion, rejection.badSecret);
    assert.equal(parseHandshake(rejected).type, 1010);
    assert.equal(rejected.readUInt32BE(12), 0x13877e73);
    assert.equal(rejected.length, 64);
    const shutdown = shutdownPacket(0x0abc);
    assert.equal(controlTypeOf(shutdown), 5);
    assert.equal(shutdown.readUInt32BE(12), 0x0abc);
  });
});

/** The captured induction with the conclusion's timestamp (the only field the caller changed between them). */
function fixTimestamp(packet: Buffer, like: Buffer): Buffer {
  const copy = Buffer.from(packet);
  copy.writeUInt32BE(like.readUInt32BE(8), 8);
  return copy;
}

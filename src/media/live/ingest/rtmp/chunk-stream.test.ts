import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkStreamReader, encodeChunks, type OutgoingMessage, type RtmpMessage } from './chunk-stream.js';

function collect(bytes: Uint8Array, split: (b: Uint8Array) => Uint8Array[] = (b) => [b]): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  const reader = new ChunkStreamReader((m) => out.push(m));
  for (const part of split(bytes)) reader.push(part);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function payload(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

/** Hand-written chunk header bytes: fmt, csid (1-byte form) and the message header fields that fmt carries. */
function header(fmt: number, csid: number, fields: { ts?: number; length?: number; typeId?: number; streamId?: number; extended?: number } = {}): number[] {
  const out = [(fmt << 6) | csid];
  const ts = fields.ts ?? 0;
  if (fmt <= 2) out.push((ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff);
  if (fmt <= 1) out.push((fields.length! >> 16) & 0xff, (fields.length! >> 8) & 0xff, fields.length! & 0xff, fields.typeId!);
  if (fmt === 0) out.push(fields.streamId! & 0xff, 0, 0, 0);
  if (fields.extended !== undefined) out.push(fields.extended >>> 24, (fields.extended >> 16) & 0xff, (fields.extended >> 8) & 0xff, fields.extended & 0xff);
  return out;
}

test('messages come out whole whatever byte boundaries the stream is split at', () => {
  const messages: OutgoingMessage[] = [
    { csid: 3, typeId: 20, streamId: 0, timestampMs: 0, payload: payload(300, 1) },
    { csid: 6, typeId: 9, streamId: 1, timestampMs: 40, payload: payload(1000, 2) },
    { csid: 70, typeId: 8, streamId: 1, timestampMs: 23, payload: payload(129, 3) }, // 2-byte csid form
    { csid: 400, typeId: 8, streamId: 1, timestampMs: 46, payload: payload(5, 4) }, // 3-byte csid form
    { csid: 6, typeId: 9, streamId: 1, timestampMs: 0x1234567, payload: payload(260, 5) }, // extended timestamp + fmt 3
    { csid: 4, typeId: 18, streamId: 1, timestampMs: 0, payload: new Uint8Array(0) },
  ];
  const stream = concat(messages.map((m) => encodeChunks(m, 128)));
  const expected = messages.map(({ csid, typeId, streamId, timestampMs, payload: p }) => ({ csid, typeId, streamId, timestampMs, payload: p }));
  assert.deepEqual(collect(stream), expected, 'in one piece');
  for (let cut = 1; cut < stream.byteLength; cut++) {
    assert.deepEqual(
      collect(stream, (b) => [b.subarray(0, cut), b.subarray(cut)]),
      expected,
      `split at byte ${cut}`,
    );
  }
  assert.deepEqual(
    collect(stream, (b) => Array.from(b, (_, i) => b.subarray(i, i + 1))),
    expected,
    'one byte at a time',
  );
});

test('fmt 1, 2 and 3 headers add deltas to the chunk stream time, modulo 2^32', () => {
  const bytes = concat([
    Uint8Array.from([...header(0, 4, { ts: 1000, length: 2, typeId: 9, streamId: 1 }), 1, 2]),
    Uint8Array.from([...header(1, 4, { ts: 40, length: 3, typeId: 9 }), 3, 4, 5]),
    Uint8Array.from([...header(2, 4, { ts: 33 }), 6, 7, 8]), // same length and type
    Uint8Array.from([...header(3, 4), 9, 10, 11]), // a new message: same delta again
    Uint8Array.from([...header(0, 5, { ts: 0xffffff, length: 1, typeId: 8, streamId: 1, extended: 0xfffffff0 }), 1]),
    Uint8Array.from([...header(2, 5, { ts: 0x20 }), 2]), // wraps past 2^32
  ]);
  const got = collect(bytes).map((m) => [m.csid, m.timestampMs, [...m.payload]]);
  assert.deepEqual(got, [
    [4, 1000, [1, 2]],
    [4, 1040, [3, 4, 5]],
    [4, 1073, [6, 7, 8]],
    [4, 1106, [9, 10, 11]],
    [5, 0xfffffff0, [1]],
    [5, 0x10, [2]],
  ]);
});

test('an extended timestamp is repeated on fmt 3 continuation chunks and read past, not as payload', () => {
  const body = payload(300, 9);
  const ext = 0x01000000;
  const bytes = Uint8Array.from([
    ...header(0, 6, { ts: 0xffffff, length: 300, typeId: 9, streamId: 1, extended: ext }),
    ...body.subarray(0, 128),
    ...header(3, 6, { extended: ext }),
    ...body.subarray(128, 256),
    ...header(3, 6, { extended: ext }),
    ...body.subarray(256),
  ]);
  for (let cut = 1; cut < bytes.byteLength; cut++) {
    const got = collect(bytes, (b) => [b.subarray(0, cut), b.subarray(cut)]);
    assert.equal(got.length, 1, `split at ${cut}`);
    assert.equal(got[0].timestampMs, ext);
    assert.deepEqual(got[0].payload, body, `split at ${cut}`);
  }
});

test("the peer's Set Chunk Size applies to the chunks right after it, in the same read", () => {
  const setChunkSize = encodeChunks({ csid: 2, typeId: 1, streamId: 0, timestampMs: 0, payload: Uint8Array.from([0, 0, 0x10, 0]) }, 128);
  const big = { csid: 6, typeId: 9, streamId: 1, timestampMs: 0, payload: payload(10_000, 7) };
  const got = collect(concat([setChunkSize, encodeChunks(big, 4096)]));
  assert.equal(got.length, 2);
  assert.deepEqual(got[1].payload, big.payload);
});

test('chunks interleaved across chunk streams are assembled per stream', () => {
  const a = payload(200, 1);
  const b = payload(150, 2);
  const bytes = Uint8Array.from([
    ...header(0, 6, { ts: 10, length: 200, typeId: 9, streamId: 1 }),
    ...a.subarray(0, 128),
    ...header(0, 4, { ts: 11, length: 150, typeId: 8, streamId: 1 }),
    ...b.subarray(0, 128),
    ...header(3, 6),
    ...a.subarray(128),
    ...header(3, 4),
    ...b.subarray(128),
  ]);
  const got = collect(bytes);
  assert.deepEqual(
    got.map((m) => [m.csid, m.timestampMs, m.payload]),
    [
      [6, 10, a],
      [4, 11, b],
    ],
  );
});

test('violations are refused: headers with no state, oversized messages, too many chunk streams, bad chunk size', () => {
  const refuse = (name: string, bytes: number[], limits?: { maxMessageBytes: number; maxChunkStreams: number }): void => {
    const reader = new ChunkStreamReader(() => undefined, limits);
    assert.throws(() => reader.push(Uint8Array.from(bytes)), { code: 'InvalidRtmpStream' }, name);
  };
  refuse('fmt 1 before fmt 0', header(1, 5, { ts: 1, length: 1, typeId: 8 }));
  refuse('fmt 3 before fmt 0', header(3, 5));
  refuse('message over the limit', header(0, 5, { length: 70_000, typeId: 9, streamId: 1 }), { maxMessageBytes: 65_536, maxChunkStreams: 8 });
  refuse(
    'too many chunk streams',
    [3, 4, 5].flatMap((csid) => [...header(0, csid, { length: 1, typeId: 8, streamId: 1 }), 0]),
    { maxMessageBytes: 100, maxChunkStreams: 2 },
  );
  refuse('chunk size 0', [...header(0, 2, { length: 4, typeId: 1, streamId: 0 }), 0, 0, 0, 0]);
  refuse('chunk size with the top bit set', [...header(0, 2, { length: 4, typeId: 1, streamId: 0 }), 0x80, 0, 0, 0]);
});

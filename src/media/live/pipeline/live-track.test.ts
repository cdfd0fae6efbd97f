import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GrowingSampleTable } from './live-track.js';

/** `n` samples of 3600 ticks (25 fps at 90 kHz) from sample `from` on: offset = 100·i, size = i % 1000 + 1, a keyframe every 50. */
function samples(from: number, n: number) {
  const index = (i: number) => from + i;
  return {
    count: n,
    offsets: Float64Array.from({ length: n }, (_, i) => 100 * index(i)),
    sizes: Uint32Array.from({ length: n }, (_, i) => (index(i) % 1000) + 1),
    dts: Float64Array.from({ length: n }, (_, i) => 3600 * index(i)),
    durations: new Uint32Array(n).fill(3600),
    ctsOffsets: new Int32Array(n),
    isSync: Uint8Array.from({ length: n }, (_, i) => (index(i) % 50 === 0 ? 1 : 0)),
  };
}

describe('GrowingSampleTable', () => {
  it('drops its head: indices, times and totals stay those of the whole run, dropped samples are a 410', () => {
    const table = new GrowingSampleTable();
    for (let at = 0; at < 10_000; at += 50) table.append(samples(at, 50));
    const before = table.run(9_000, 9_050);
    const beforeOffsets = Array.from(before.offsets);
    const full = table.memoryBytes;

    table.dropBefore(8_000);
    assert.equal(table.count, 10_000);
    assert.equal(table.firstKept, 8_000);
    assert.equal(table.durationTicks, 10_000 * 3600, 'the duration counts from the run’s first sample');
    assert.ok(table.memoryBytes < full / 2, `memory ${table.memoryBytes} B after the drop, ${full} B before`);
    assert.deepEqual(Array.from(before.offsets), beforeOffsets, 'a run handed out before stays valid');
    const run = table.run(9_000, 9_050);
    assert.equal(run.first, 9_000);
    assert.deepEqual(Array.from(run.offsets), beforeOffsets);
    assert.equal(table.dtsAt(8_000), 8_000 * 3600);
    assert.equal(table.dtsAt(10_000), 10_000 * 3600);
    assert.equal(table.ticksIn(8_000, 8_010), 10 * 3600);
    assert.equal(table.firstAtOrAfter(0), 8_000);
    assert.equal(table.firstAtOrAfter(9_000 * 3600 + 1), 9_001);
    assert.equal(table.nextSyncAtOrAfter(3), 8_000);
    assert.equal(table.nextSyncAtOrAfter(8_001), 8_050);
    assert.equal(table.bytesIn(8_000, 8_002), 1 + 2);
    assert.equal(table.medianDuration(), 3600);
    for (const read of [() => table.run(7_999, 8_001), () => table.dtsAt(10), () => table.bytesIn(0, 1)])
      assert.throws(read, (err: Error & { status?: number }) => err.status === 410);

    // Appending goes on after the drop (a doubling copies only what is kept).
    for (let at = 10_000; at < 20_000; at += 50) table.append(samples(at, 50));
    assert.equal(table.count, 20_000);
    assert.deepEqual(
      Array.from(table.run(19_990, 20_000).dts),
      Array.from({ length: 10 }, (_, i) => (19_990 + i) * 3600),
    );
    assert.deepEqual(Array.from(table.run(8_000, 8_002).sizes), [1, 2]);
  });

  it('stays bounded over a day at 25 fps when only the last hour is kept', (t) => {
    const table = new GrowingSampleTable();
    const hour = 25 * 3600;
    let largest = 0;
    // 24 h of 2 s segments (50 frames each), the head dropped to the last hour as each segment is added.
    for (let at = 0; at < 24 * hour; at += 50) {
      table.append(samples(at, 50));
      table.dropBefore(at + 50 - hour);
      largest = Math.max(largest, table.memoryBytes);
    }
    assert.equal(table.count, 24 * hour);
    t.diagnostic(`largest ${largest} B for 1 h kept (${hour} samples), ${table.memoryBytes} B at the end; unbounded it would be ${24 * hour * 29} B`);
    // One hour is 90,000 samples (2.6 MB at 29 B a sample); the arrays hold at most about four times that.
    assert.ok(largest <= 4 * hour * 29 + 1024 * 29, `largest ${largest} B`);
    assert.equal(table.run(24 * hour - 1, 24 * hour).dts[0], (24 * hour - 1) * 3600);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MediaError } from '../../../shared/errors.js';
import { findSampleEntryChild } from '../../packager/mux/ts/sample-entry.js';
import { makeHevcSource } from '../../../../test/support/enhanced-rtmp-publisher.js';
import { readIndex } from '../../../../test/support/live-pipeline.js';
import { hevcConfig, hevcRecordNalUnits, hevcSpsDimensions } from './hevc-config.js';
import { nalRbsp } from './sample-entry-parts.js';

describe('hevc-config', () => {
  let dir: string;
  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'hevc-config-'));
  });
  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  // Sizes x265 pads to its 8-pixel coding blocks (a conformance window crops them back), 1080 lines (coded as
  // 1088), and 4:4:4 (chroma offsets count single samples, Main 4:4:4 profile).
  for (const [size, pixFmt] of [
    ['426x238', 'yuv420p'],
    ['1920x1080', 'yuv420p'],
    ['202x102', 'yuv444p'],
  ] as const) {
    it(`builds the hvc1 sample entry, size and codecs string of a ${size} ${pixFmt} stream as the packager reads them`, async () => {
      const file = path.join(dir, `${size}-${pixFmt}.mp4`);
      await makeHevcSource(file, { seconds: 0.2, size, pixFmt });
      const source = (await readIndex(file)).tracks.find((t) => t.kind === 'video')!;
      const record = findSampleEntryChild(source, 'hvcC')!;
      const config = hevcConfig(record);
      const [width, height] = size.split('x').map(Number);
      assert.deepEqual(config.video, { width, height });
      const probed = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file]);
      assert.equal(probed.toString().trim(), `${width},${height}`, 'ffprobe agrees on the size');
      // The same codecs string VOD assets get (the packager's hevcCodecString over the same record).
      assert.equal(config.codecs, source.codecs);
      assert.match(config.codecs, /^hvc1\.\d+\.[0-9A-F]+\.[LH]\d+/);
      assert.equal(config.fourcc, 'hvc1');

      // The sample entry the packager will copy into init segments reads back as the same track.
      const built = { ...source, fourcc: 'hvc1', sampleEntry: config.sampleEntry };
      assert.deepEqual(findSampleEntryChild(built, 'hvcC'), record, 'hvcC holds the record as received');
      const entry = config.sampleEntry;
      assert.equal(Buffer.from(entry.subarray(4, 8)).toString(), 'hvc1');
      assert.equal(new DataView(entry.buffer).getUint32(0), entry.byteLength);
      assert.deepEqual([(entry[32] << 8) | entry[33], (entry[34] << 8) | entry[35]], [width, height]);
      assert.equal(hevcConfig(record, 'hev1').codecs.replace(/^hev1/, 'hvc1'), config.codecs);
    });
  }

  it('reads the SPS after removing emulation prevention bytes', async () => {
    assert.deepEqual([...nalRbsp(Uint8Array.from([0x42, 1, 0, 0, 3, 1, 0, 0, 3, 0, 0, 0, 3]))], [0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
    const file = path.join(dir, 'ep.mp4');
    await makeHevcSource(file, { seconds: 0.2, size: '320x240' });
    const record = findSampleEntryChild(
      (await readIndex(file)).tracks.find((t) => t.kind === 'video')!,
      'hvcC',
    )!;
    const sps = hevcRecordNalUnits(record).find((u) => u.type === 33)!.nal;
    assert.deepEqual(hevcSpsDimensions(sps), { width: 320, height: 240 });
    // x265's SPS carries 00 00 03 in its profile_tier_level (zero constraint bytes): without the removal the
    // fields after it would be read from shifted bits.
    assert.ok(Buffer.from(sps).includes(Buffer.from([0, 0, 3])), 'the SPS holds an emulation prevention byte');
  });

  it('refuses a record that is not an HEVCDecoderConfigurationRecord or has no SPS', () => {
    const isCorrupt = (err: unknown) => err instanceof MediaError && err.status === 422 && /HEVC sequence header/.test(err.message);
    assert.throws(() => hevcConfig(Uint8Array.from([1, 2, 3])), isCorrupt);
    const noArrays = new Uint8Array(23);
    noArrays[0] = 1;
    assert.throws(() => hevcConfig(noArrays), isCorrupt);
    const truncated = Uint8Array.from([...noArrays.subarray(0, 22), 1, 0xa1, 0, 1, 0, 40, 1]);
    assert.throws(() => hevcConfig(truncated), isCorrupt);
  });
});

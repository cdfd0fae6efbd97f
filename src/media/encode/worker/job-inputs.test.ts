import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BlobInfo } from '../../../storage/blob-store.js';
import { fileNameOf, httpInputUrl, ismSources, pickInputFiles } from './job-inputs.js';

const blob = (name: string, size: number): BlobInfo => ({ name, size, etag: name, lastModified: new Date(0) });

describe('job inputs', () => {
  const renditions = [
    blob('clip.ism', 2_000),
    blob('clip_640x360_800.mp4', 800_000),
    blob('clip_1280x720_3400.mp4', 3_400_000),
    blob('clip_AACAudio_128.mp4', 128_000),
    blob('clip_eng.vtt', 900),
    blob('empty.mov', 0),
    blob('notes.txt', 10_000_000),
  ];

  it('picks what a preset reads when files are left to the server', () => {
    const cases: Array<[string, BlobInfo[], string[]]> = [
      ['#Microsoft.Media.BuiltInStandardEncoderPreset', renditions, ['clip_1280x720_3400.mp4']],
      ['#Microsoft.Media.BuiltInStandardEncoderPreset', [blob('song.m4a', 5), blob('talk.mp3', 9)], ['talk.mp3']],
      ['#Microsoft.Media.BuiltInStandardEncoderPreset', [blob('a.ism', 5), blob('b.vtt', 9)], []],
      ['#Microsoft.Media.BuiltInAssetConverterPreset', renditions, ['clip_1280x720_3400.mp4', 'clip_640x360_800.mp4', 'clip_AACAudio_128.mp4']],
      ['#MediaKind.TrackInserterPreset', renditions, ['clip_eng.vtt']],
    ];
    for (const [type, blobs, want] of cases)
      assert.deepEqual(
        pickInputFiles(blobs, type).map((b) => b.name),
        want,
        type,
      );
  });

  it('joins JobInputHttp files to baseUri the way AMS did, keeping a SAS query at the end', () => {
    const cases: Array<[string | undefined, string, string]> = [
      ['https://cdn.example/videos', 'a.mp4', 'https://cdn.example/videos/a.mp4'],
      ['https://cdn.example/videos/', '/a.mp4', 'https://cdn.example/videos/a.mp4'],
      ['https://acct.blob.example/c?sv=1&sig=x', 'in/a.mp4', 'https://acct.blob.example/c/in/a.mp4?sv=1&sig=x'],
      ['https://cdn.example/videos', 'https://other.example/b.mp4', 'https://other.example/b.mp4'],
      [undefined, 'https://other.example/b.mp4', 'https://other.example/b.mp4'],
    ];
    for (const [base, file, want] of cases) assert.equal(httpInputUrl(base, file), want);
    assert.equal(fileNameOf('https://x.example/dir/My%20Clip.mp4?sig=1'), 'My Clip.mp4');
    assert.equal(fileNameOf('sub/path/source.mp4'), 'source.mp4');
  });

  it('expands a named .ism into the renditions it lists, beside it', () => {
    const ism = {
      head: {},
      body: { video: [{ src: 'v_720.mp4' }, { src: 'v_360.mp4' }], audio: [{ src: 'a.mp4' }, { src: 'v_720.mp4' }], textstream: [{ src: 'subs.vtt' }] },
    };
    assert.deepEqual(ismSources(ism, 'sub/clip.ism'), ['sub/v_720.mp4', 'sub/v_360.mp4', 'sub/a.mp4']);
    assert.deepEqual(ismSources(ism, 'clip.ism'), ['v_720.mp4', 'v_360.mp4', 'a.mp4']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { basenameOf, expandFilenamePattern, unknownMacros } from './filename-pattern.js';

describe('basenameOf', () => {
  const cases: Array<[string, string]> = [
    ['source.mp4', 'source'],
    ['My Holiday (1).MOV', 'My_Holiday__1_'],
    ['dir/sub/clip.v2.mp4', 'clip.v2'],
    ['noext', 'noext'],
    ['.hidden.mp4', 'hidden'],
    ['日本語.mp4', '___'],
    ['a'.repeat(40) + '.mp4', 'a'.repeat(32)],
    ['.mp4', 'mp4'],
    ['', 'input'],
    ['...', 'input'],
  ];
  for (const [name, expected] of cases) it(`${name} → ${expected}`, () => assert.equal(basenameOf(name), expected));
});

describe('expandFilenamePattern', () => {
  const video = { basename: 'clip', extension: '.mp4', label: 'HD', bitrateKbps: 3400, codec: 'H264', resolution: '1280x720' };
  const audio = { basename: 'clip', extension: '.mp4', label: 'aud', bitrateKbps: 128, codec: 'AAC', audioStream: 1 };
  const cases: Array<[string, object, string]> = [
    ['{Basename}_{Resolution}_{Bitrate}{Extension}', video, 'clip_1280x720_3400.mp4'],
    ['Video-{Basename}-{Label}-{Bitrate}{Extension}', video, 'Video-clip-HD-3400.mp4'],
    ['{Basename}_{Codec}_{Resolution}{Extension}', video, 'clip_H264_1280x720.mp4'],
    // Unsubstituted macros collapse together with the separator they leave dangling.
    ['{Basename}_{Resolution}_{Bitrate}{Extension}', audio, 'clip_128.mp4'],
    ['{Basename}_{Resolution}{Extension}', audio, 'clip.mp4'],
    ['{Resolution}_{Basename}{Extension}', audio, 'clip.mp4'],
    ['{Basename}_{AudioStream}_{Bitrate}{Extension}', audio, 'clip_Audio1_128.mp4'],
    ['Thumbnail-{Basename}-{Index}{Extension}', { basename: 'clip', extension: '.jpg', index: '000001' }, 'Thumbnail-clip-000001.jpg'],
    ['{basename}{EXTENSION}', video, 'clip.mp4'],
    ['out put/{Label}{Extension}', { basename: 'clip', extension: '.mp4', label: 'a b' }, 'out_put_a_b.mp4'],
    ['100%_{Basename}{Extension}', video, '100__clip.mp4'],
  ];
  for (const [pattern, values, expected] of cases)
    it(`${pattern} → ${expected}`, () => assert.equal(expandFilenamePattern(pattern, values as never), expected));

  it('keeps the image2 placeholder of {Index} intact while replacing every other %', () => {
    assert.equal(expandFilenamePattern('%{Basename}_{Index}{Extension}', { basename: 'clip', extension: '.jpg', index: '%06d' }), '_clip_%06d.jpg');
  });
  it('names unknown macros', () => assert.deepEqual(unknownMacros('{Basename}_{Height}_{Label}{Ext}'), ['Height', 'Ext']));
});

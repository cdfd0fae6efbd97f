import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAutoLadder } from '../presets/adaptive-ladder.js';
import type { EncodeError } from '../encode-engine.js';
import type { VideoEncodeTrack } from './encode-plan.js';
import { snapFrameRate } from '../presets/frame-rate.js';
import { commonBasename, planEncode, speedFor, type PlanSource } from './output-planner.js';
import { parsePreset } from '../presets/preset-parser.js';
import type { SourceInfo } from '../ffmpeg/source-prober.js';

function source(
  options: {
    width?: number;
    height?: number;
    rotationDeg?: number;
    fps?: number;
    durationSec?: number;
    hasAudio?: boolean;
    hasVideo?: boolean;
    videoBps?: number;
    fileName?: string;
  } = {},
): PlanSource {
  const { width = 1920, height = 1080, rotationDeg = 0, fps = 25, durationSec = 60, hasAudio = true, hasVideo = true } = options;
  const sideways = rotationDeg === 90 || rotationDeg === 270;
  const video = {
    streamIndex: 0,
    codec: 'h264',
    width,
    height,
    displayWidth: sideways ? height : width,
    displayHeight: sideways ? width : height,
    rotationDeg,
    sampleAspectRatio: 1,
    frameRate: snapFrameRate(fps),
    bitrateBps: options.videoBps ?? 5_000_000,
  };
  const info: SourceInfo = {
    formatName: 'mov,mp4',
    durationSec,
    videos: hasVideo ? [video] : [],
    ...(hasVideo ? { video } : {}),
    audios: hasAudio ? [{ streamIndex: hasVideo ? 1 : 0, codec: 'aac', channels: 2, sampleRateHz: 48000, bitrateBps: 128_000, language: 'eng' }] : [],
  };
  return { input: { url: `/media/${options.fileName ?? 'clip.mp4'}`, fileName: options.fileName ?? 'clip.mp4' }, info };
}

const options = { x264Preset: 'veryfast', x265Preset: 'fast' };
const plan = (preset: Record<string, unknown>, sources: PlanSource[], extra: object = {}) => {
  const { spec, problems } = parsePreset(preset);
  assert.ok(spec, problems.join('; '));
  return planEncode(spec, sources, { ...options, ...extra });
};
const builtIn = (presetName: string) => ({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName });
const videoOf = (p: ReturnType<typeof plan>) => p.mp4.flatMap((f) => f.tracks).filter((t): t is VideoEncodeTrack => t.kind === 'video-encode');

describe('planEncode: built-in ladders', () => {
  it('writes the published 1080p ladder, one video-only MP4 per rung, the audio and the .ism', () => {
    const p = plan(builtIn('H264MultipleBitrate1080p'), [source({ fileName: 'My Movie.mp4' })]);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      [
        'My_Movie_320x180_400.mp4',
        'My_Movie_640x360_600.mp4',
        'My_Movie_640x360_1000.mp4',
        'My_Movie_960x540_1500.mp4',
        'My_Movie_960x540_2250.mp4',
        'My_Movie_1280x720_3400.mp4',
        'My_Movie_1920x1080_4700.mp4',
        'My_Movie_1920x1080_6000.mp4',
        'My_Movie_AACAudio_128.mp4',
      ],
    );
    assert.equal(p.manifest?.name, 'My_Movie.ism');
    assert.deepEqual(
      p.manifest?.tracks.map((t) => [t.kind, t.src, t.trackId]),
      p.mp4.map((f) => [f.tracks[0].kind === 'audio-encode' ? 'audio' : 'video', f.name, 1]),
    );
    for (const t of videoOf(p))
      assert.deepEqual(
        [t.gopFrames, t.keyFrameIntervalSec, t.rateControl, t.speedPreset, t.maxBitrateBps, t.bufferSizeBits],
        [50, 2, 'abr', 'veryfast', t.bitrateBps, 5 * t.bitrateBps],
      );
  });

  it('never upscales: a 640x360 input drops the rungs above 360p', () => {
    const p = plan(builtIn('H264MultipleBitrate720p'), [source({ width: 640, height: 360 })]);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['clip_320x180_400.mp4', 'clip_640x360_600.mp4', 'clip_640x360_1000.mp4', 'clip_AACAudio_128.mp4'],
    );
  });

  it('keeps the lowest rung, at the input size, when every rung is taller than the input', () => {
    const p = plan(builtIn('H264SingleBitrate1080p'), [source({ width: 426, height: 240 })]);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['clip_426x240_6750.mp4', 'clip_AACAudio_128.mp4'],
    );
  });

  it('fits rungs to the input shape: 4:3 stays 4:3, a portrait phone video gets portrait rungs', () => {
    assert.deepEqual(
      videoOf(plan(builtIn('H264MultipleBitrateSD'), [source({ width: 640, height: 480 })])).map((t) => `${t.width}x${t.height}`),
      ['320x240', '480x360', '640x480', '640x480', '640x480'],
    );
    assert.deepEqual(
      videoOf(plan(builtIn('H264MultipleBitrate720p'), [source({ width: 1280, height: 720, rotationDeg: 90 })])).map((t) => `${t.width}x${t.height}`),
      ['180x320', '360x640', '360x640', '540x960', '540x960', '720x1280'],
    );
  });

  it('CVQ ladders use capped CRF; H.265 presets use x265 with its own speed preset', () => {
    const cvq = videoOf(plan(builtIn('H264MultipleBitrateSDWithCVQ'), [source()]));
    assert.deepEqual([cvq[0].rateControl, cvq[0].crf, cvq[0].maxBitrateBps, cvq[0].bufferSizeBits], ['capped-crf', 23, 400_000, 800_000]);
    const hevc = videoOf(plan(builtIn('H265SingleBitrate4K'), [source({ width: 3840, height: 2160 })]));
    assert.deepEqual(
      hevc.map((t) => [t.codec, t.width, t.height, t.bitrateBps, t.speedPreset]),
      [['h265', 3840, 2160, 9_500_000, 'fast']],
    );
  });

  it('halves 50/60 fps inputs to the 30 fps the ladders were published at (Sport keeps 60)', () => {
    assert.equal(plan(builtIn('H264SingleBitrate720p'), [source({ fps: 59.94 })]).picture?.frameRate.text, '30000/1001');
    assert.equal(plan(builtIn('H264SingleBitrate720p'), [source({ fps: 50 })]).picture?.frameRate.text, '25');
    assert.equal(plan(builtIn('H264MultipleBitrateSport1080p'), [source({ fps: 60 })]).picture?.frameRate.text, '60');
  });

  it('AACGoodQualityAudio writes audio only', () => {
    const p = plan(builtIn('AACGoodQualityAudio'), [source()]);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['clip_AACAudio_192.mp4'],
    );
    assert.equal(p.picture, undefined);
    assert.deepEqual(
      p.manifest?.tracks.map((t) => t.trackName),
      ['aac_eng_2_192'],
    );
  });

  it('writes only audio for an audio-only input and refuses audio presets without audio', () => {
    assert.deepEqual(
      plan(builtIn('H264MultipleBitrate720p'), [source({ hasVideo: false })]).mp4.map((f) => f.name),
      ['clip_AACAudio_128.mp4'],
    );
    assert.throws(
      () => plan(builtIn('AACGoodQualityAudio'), [source({ hasAudio: false })]),
      (e: EncodeError) => e.code === 'ContentUnsupported' && /no audio track/.test(e.message),
    );
  });
});

describe('planEncode: AdaptiveStreaming and ContentAwareEncoding', () => {
  it('picks rungs up to the input height only', () => {
    const p = plan(builtIn('AdaptiveStreaming'), [source({ width: 640, height: 360, videoBps: 2_000_000 })]);
    assert.deepEqual(
      videoOf(p).map((t) => `${t.width}x${t.height}@${t.bitrateBps / 1000}`),
      ['640x360@900', '480x270@550', '320x180@300'],
    );
  });
  it('lowers bitrates for a low-bitrate source, and scales them by complexity for content-aware', () => {
    assert.deepEqual(
      buildAutoLadder({ kind: 'adaptive', codec: 'h264', picture: { width: 1280, height: 720 }, sourceVideoBitrateBps: 1_500_000 }).map((r) => r.kbps),
      [1500, 900, 450, 280, 150],
    );
    assert.deepEqual(
      buildAutoLadder({ kind: 'content-aware', codec: 'h264', picture: { width: 1280, height: 720 }, complexityFactor: 0.5 }).map((r) => r.kbps),
      [1500, 900, 450, 280, 150],
    );
    assert.deepEqual(
      buildAutoLadder({ kind: 'content-aware', codec: 'h264', picture: { width: 1280, height: 720 }, complexityFactor: 9 }).map((r) => r.kbps),
      [4800, 2880, 1440, 880, 480],
    );
  });
  it('applies AMS configurations', () => {
    const ladder = buildAutoLadder({
      kind: 'content-aware',
      codec: 'h265',
      picture: { width: 3840, height: 2160 },
      configuration: { maxHeight: 1080, minHeight: 360, maxLayers: 3, maxBitrateBps: 3_000_000 },
    });
    assert.deepEqual(
      ladder.map((r) => `${r.height}@${r.kbps}`),
      ['1080@3000', '720@1800', '540@1100'],
    );
  });
  it('gives a tiny input one rung at its own size', () => {
    assert.deepEqual(
      buildAutoLadder({ kind: 'adaptive', codec: 'h264', picture: { width: 256, height: 144 } }).map((r) => `${r.width}x${r.height}`),
      ['256x144'],
    );
  });
});

describe('planEncode: StandardEncoderPreset', () => {
  const standard = (codecs: object[], formats: object[], extra: object = {}) => ({
    '@odata.type': '#Microsoft.Media.StandardEncoderPreset',
    codecs,
    formats,
    ...extra,
  });
  const mp4 = (filenamePattern: string, extra: object = {}) => ({ '@odata.type': '#Microsoft.Media.Mp4Format', filenamePattern, ...extra });
  const aac = { '@odata.type': '#Microsoft.Media.AacAudio', bitrate: 96000, label: 'aud' };

  it('resolves pixel and percentage sizes, stretch modes, and names files by pattern', () => {
    const p = plan(
      standard(
        [
          {
            '@odata.type': '#Microsoft.Media.H264Video',
            layers: [
              { bitrate: 3_000_000, width: '1280', height: '720', label: 'HD' },
              { bitrate: 500_000, width: '25%', label: 'SD' },
            ],
          },
          { '@odata.type': '#Microsoft.Media.H264Video', stretchMode: 'AutoFit', layers: [{ bitrate: 800_000, width: '640', height: '640', label: 'SQ' }] },
          { '@odata.type': '#Microsoft.Media.H264Video', stretchMode: 'None', layers: [{ bitrate: 800_000, width: '640', height: '640', label: 'ST' }] },
          aac,
        ],
        [mp4('{Basename}_{Label}_{Resolution}_{Bitrate}{Extension}')],
      ),
      [source()],
    );
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['clip_HD_1280x720_3000.mp4', 'clip_SD_480x270_500.mp4', 'clip_SQ_640x640_800.mp4', 'clip_ST_640x640_800.mp4', 'clip_aud_96.mp4'],
    );
    const sq = videoOf(p)[2];
    assert.deepEqual([sq.fit, sq.scaledWidth, sq.scaledHeight], ['pad', 640, 360]);
  });

  it('muxes outputFiles labels into one MP4 and lists the shared audio once in the .ism', () => {
    const p = plan(
      standard(
        [
          {
            '@odata.type': '#Microsoft.Media.H264Video',
            layers: [
              { bitrate: 2_000_000, height: '720', label: 'HD' },
              { bitrate: 500_000, height: '360', label: 'SD' },
            ],
          },
          aac,
        ],
        [mp4('{Basename}_{Resolution}{Extension}', { outputFiles: [{ labels: ['HD', 'aud'] }, { labels: ['aud', 'SD'] }] })],
      ),
      [source()],
    );
    assert.deepEqual(
      p.mp4.map((f) => [f.name, f.tracks.map((t) => t.kind)]),
      [
        ['clip_1280x720.mp4', ['video-encode', 'audio-encode']],
        ['clip_640x360.mp4', ['video-encode', 'audio-encode']],
      ],
    );
    assert.deepEqual(
      p.manifest?.tracks.map((t) => [t.kind, t.src, t.trackId]),
      [
        ['video', 'clip_1280x720.mp4', 1],
        ['audio', 'clip_1280x720.mp4', 2],
        ['video', 'clip_640x360.mp4', 1],
      ],
    );
  });

  it('crops and rotates before sizing, in the displayed picture', () => {
    const p = plan(
      standard([{ '@odata.type': '#Microsoft.Media.H264Video', layers: [{ bitrate: 1e6 }] }], [mp4('{Basename}{Extension}')], {
        filters: { crop: { left: '10%', top: '0', width: '50%', height: '200' }, rotation: 'Rotate90' },
      }),
      [source({ width: 640, height: 360 })],
    );
    assert.equal(p.picture?.rotateFilter, 'transpose=clock');
    assert.deepEqual(p.picture?.crop, { x: 36, y: 0, width: 180, height: 200 });
    assert.deepEqual(
      videoOf(p).map((t) => `${t.width}x${t.height}`),
      ['180x200'],
    );
  });

  it('turns an upright phone video back to its stored orientation for Rotate0, and keeps the matrix for None', () => {
    const phone = source({ width: 640, height: 360, rotationDeg: 90 });
    const rotate = (rotation: string) =>
      plan(standard([{ '@odata.type': '#Microsoft.Media.H264Video', layers: [{ bitrate: 1e6 }] }], [mp4('{Basename}{Extension}')], { filters: { rotation } }), [
        phone,
      ]);
    assert.deepEqual(
      [rotate('Auto').picture?.width, rotate('Auto').picture?.rotateFilter, rotate('Auto').inputs[0].isNoAutorotate],
      [360, undefined, undefined],
    );
    assert.deepEqual([rotate('Rotate0').picture?.width, rotate('Rotate0').picture?.rotateFilter], [640, 'transpose=cclock']);
    assert.deepEqual([rotate('None').picture?.width, rotate('None').inputs[0].isNoAutorotate], [640, true]);
  });

  it('plans JPEG series and sprites with AMS start/step/range', () => {
    const p = plan(
      standard(
        [
          {
            '@odata.type': '#Microsoft.Media.JpgImage',
            start: 'PT1S',
            step: 'PT2S',
            range: 'PT7S',
            layers: [
              { width: '320', height: '180', quality: 90, label: 'a' },
              { width: '10%', height: '10%', label: 'b' },
            ],
          },
          { '@odata.type': '#Microsoft.Media.JpgImage', start: '0', step: '25%', spriteColumn: 2, label: 'sprite', layers: [{ width: '160', height: '90' }] },
          { '@odata.type': '#Microsoft.Media.PngImage', start: '{Best}', layers: [{}] },
        ],
        [
          { '@odata.type': '#Microsoft.Media.JpgFormat', filenamePattern: '{Basename}_{Label}_{Index}{Extension}' },
          { '@odata.type': '#Microsoft.Media.PngFormat', filenamePattern: '{Basename}_poster{Extension}' },
        ],
      ),
      [source({ durationSec: 20 })],
    );
    const [a, b, sprite, best] = p.images;
    assert.deepEqual(a.selection, { kind: 'times', timesSec: [1, 3, 5, 7], stepSec: 2 });
    assert.deepEqual(
      [a.names, a.ffmpegPattern, a.width, a.height, a.quality],
      [['clip_a_000001.jpg', 'clip_a_000002.jpg', 'clip_a_000003.jpg', 'clip_a_000004.jpg'], 'clip_a_%06d.jpg', 320, 180, 90],
    );
    assert.deepEqual([b.width, b.height, b.names[0]], [192, 108, 'clip_b_000001.jpg']);
    assert.deepEqual(
      [sprite.sprite?.name, sprite.sprite?.vttName, sprite.sprite?.columns, sprite.sprite?.rows],
      ['clip_sprite_000001.jpg', 'clip_sprite_000001.vtt', 2, 2],
    );
    assert.deepEqual(sprite.selection, { kind: 'times', timesSec: [0, 5, 10, 15], stepSec: 5 });
    assert.deepEqual([best.selection.kind, best.names, best.width], ['best', ['clip_poster.png'], 1920]);
    assert.equal(p.manifest, undefined, 'no MP4, no .ism');
  });

  it('refuses thumbnails from an input without video', () => {
    assert.throws(
      () =>
        plan(
          standard(
            [{ '@odata.type': '#Microsoft.Media.PngImage', start: '0', range: '1' }],
            [{ '@odata.type': '#Microsoft.Media.PngFormat', filenamePattern: '{Basename}{Extension}' }],
          ),
          [source({ hasVideo: false })],
        ),
      (e: EncodeError) => e.code === 'ContentUnsupported' && /no video track/.test(e.message),
    );
  });

  it('makes clashing names unique and reports them', () => {
    const p = plan(standard([{ '@odata.type': '#Microsoft.Media.H264Video', layers: [{ bitrate: 1e6 }, { bitrate: 5e5 }] }], [mp4('{Basename}{Extension}')]), [
      source(),
    ]);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['clip.mp4', 'clip_2.mp4'],
    );
    assert.deepEqual(p.renamed, ['clip.mp4']);
  });

  it('maps AMS complexity onto speed presets around the configured one', () => {
    assert.deepEqual(
      [speedFor('veryfast', 'Speed'), speedFor('veryfast', 'Balanced'), speedFor('veryfast', 'Quality'), speedFor('ultrafast', 'Speed')],
      ['superfast', 'veryfast', 'faster', 'ultrafast'],
    );
  });
});

describe('planEncode: MK.IO ThumbnailGeneratorPreset', () => {
  const thumbs = (thumbnails: object[], baseFilename?: string) => ({
    '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
    ...(baseFilename ? { baseFilename } : {}),
    thumbnails,
  });
  it('names images {baseFilename}_{label}{index}{ext}; a plain-number range counts images', () => {
    const p = plan(thumbs([{ format: 'Jpeg', start: 'PT10S', step: 'PT5S', range: '5', width: '320', height: '180', label: 'small' }], 'thumb'), [source()]);
    assert.deepEqual(p.images[0].names, ['thumb_small1.jpg', 'thumb_small2.jpg', 'thumb_small3.jpg', 'thumb_small4.jpg', 'thumb_small5.jpg']);
    assert.deepEqual(p.images[0].selection, { kind: 'times', timesSec: [10, 15, 20, 25, 30], stepSec: 5 });
  });
  it('defaults to one image at 10 s, taking the last frame of a shorter clip', () => {
    const p = plan(thumbs([{ format: 'Png' }]), [source({ durationSec: 4 })]);
    assert.deepEqual([p.images[0].names, p.images[0].selection], [['clip_1.png'], { kind: 'times', timesSec: [3.96], stepSec: 0.4 }]);
  });
  it('tiles a sprite with its WebVTT index', () => {
    const p = plan(
      thumbs([{ format: 'Jpeg', start: '0', step: 'PT2S', range: 'PT10S', width: '160', height: '90', label: 'small', spriteColumn: 3 }], 'thumb'),
      [source()],
    );
    const s = p.images[0].sprite;
    assert.deepEqual([s?.name, s?.vttName, s?.columns, s?.rows], ['thumb_small.jpg', 'thumb_small.vtt', 3, 2]);
    assert.match(s?.vtt ?? '', /00:00:08.000 --> 00:00:10.000\nthumb_small.jpg#xywh=160,90,160,90/);
  });
});

describe('planEncode: asset converter and clips', () => {
  const convert = (presetName: string) => ({ '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName });
  const renditions = [
    source({ width: 1280, height: 720, videoBps: 3_400_000, hasAudio: false, fileName: 'v_1280x720_3400.mp4' }),
    source({ width: 640, height: 360, videoBps: 1_000_000, hasAudio: false, fileName: 'v_640x360_1000.mp4' }),
    source({ hasVideo: false, fileName: 'v_AACAudio_128.mp4' }),
  ];

  it('CopyAllBitrateNonInterleaved copies every track into its own MP4', () => {
    const p = plan(convert('CopyAllBitratesNonInterleaved'), renditions);
    assert.deepEqual(
      p.mp4.map((f) => f.name),
      ['v_1280x720_3400.mp4', 'v_640x360_1000.mp4', 'v_AACAudio_128.mp4'],
    );
    assert.ok(p.mp4.every((f) => f.tracks.every((t) => t.kind === 'copy')));
    assert.equal(p.manifest?.name, 'v.ism');
  });
  it('CopyTopBitrateInterleaved keeps the best video with the audio', () => {
    const p = plan(convert('CopyTopBitrateInterleaved'), renditions);
    assert.deepEqual(
      p.mp4.map((f) => [f.name, f.tracks.map((t) => t.kind === 'copy' && `${t.media}@${t.inputIndex}`)]),
      [['v_1280x720_3400.mp4', ['video@0', 'audio@2']]],
    );
    assert.deepEqual(
      p.manifest?.tracks.map((t) => [t.kind, t.trackId]),
      [
        ['video', 1],
        ['audio', 2],
      ],
    );
  });
  it('names the .ism after what the inputs share', () => {
    assert.equal(commonBasename(['movie_1280x720_3400.mp4', 'movie_AACAudio_128.mp4']), 'movie');
    assert.equal(commonBasename(['clip.mp4']), 'clip');
    assert.equal(commonBasename(['a.mp4', 'b.mp4']), 'a');
  });
  it('clips by input seeking and checks the clip against the input', () => {
    const p = plan(builtIn('H264SingleBitrateSD'), [source({ durationSec: 10 })], { clip: { startSec: 2, endSec: 5 } });
    assert.deepEqual([p.inputs[0].seekSec, p.inputs[0].durationSec, p.durationSec], [2, 3, 3]);
    assert.equal(plan(builtIn('H264SingleBitrateSD'), [source({ durationSec: 10 })], { clip: { startSec: 8 } }).durationSec, 2);
    assert.throws(
      () => plan(builtIn('H264SingleBitrateSD'), [source({ durationSec: 10 })], { clip: { startSec: 12 } }),
      (e: EncodeError) => e.code === 'ConfigurationUnsupported' && /at or after the end of the input/.test(e.message),
    );
    assert.throws(() => plan(builtIn('H264SingleBitrateSD'), [source()], { clip: { startSec: 5, endSec: 4 } }), /ends .* before it starts/);
  });
});

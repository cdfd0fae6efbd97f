import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtInPresetNames } from './builtin-presets.js';
import { FfmpegEncodeEngine } from '../ffmpeg/ffmpeg-encode-engine.js';
import { parsePreset } from './preset-parser.js';

const engine = new FfmpegEncodeEngine({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe' });
const builtIn = (presetName: string, extra: object = {}) => ({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName, ...extra });
const standard = (codecs: object[], formats: object[], extra: object = {}) => ({
  '@odata.type': '#Microsoft.Media.StandardEncoderPreset',
  codecs,
  formats,
  ...extra,
});
const h264 = (layers: object[], extra: object = {}) => ({ '@odata.type': '#Microsoft.Media.H264Video', layers, ...extra });
const mp4 = (filenamePattern = '{Basename}_{Label}_{Bitrate}{Extension}', extra: object = {}) => ({
  '@odata.type': '#Microsoft.Media.Mp4Format',
  filenamePattern,
  ...extra,
});
const aac = { '@odata.type': '#Microsoft.Media.AacAudio', channels: 2, samplingRate: 48000, bitrate: 128000, label: 'aud' };

describe('validatePreset accepts', () => {
  const mkioNames = [
    'H264SingleBitrateSD',
    'H264SingleBitrate720p',
    'H264SingleBitrate1080p',
    'H264MultipleBitrateSD',
    'H264MultipleBitrate720p',
    'H264MultipleBitrate1080p',
    'H264MultipleBitrateSDWithCVQ',
    'H264MultipleBitrate720pWithCVQ',
    'H264MultipleBitrate1080pWithCVQ',
    'H265SingleBitrate720p',
    'H265SingleBitrate1080p',
    'H265SingleBitrate4K',
    'AACGoodQualityAudio',
    'H264MultipleBitrateSport1080p',
  ];
  const amsNames = ['AdaptiveStreaming', 'ContentAwareEncoding', 'H265AdaptiveStreaming', 'H265ContentAwareEncoding', 'CopyAllBitrateNonInterleaved'];
  for (const name of [...mkioNames, ...amsNames]) it(`BuiltInStandardEncoderPreset ${name}`, () => assert.deepEqual(engine.validatePreset(builtIn(name)), []));
  it('every built-in name the engine lists', () => assert.ok(mkioNames.concat(amsNames.slice(0, 4)).every((n) => builtInPresetNames.includes(n))));

  for (const name of [
    'CopyTopBitrateInterleaved',
    'CopyAllBitrateNonInterleaved',
    'CopyAllBitrateInterleaved',
    'CopyAllBitratesNonInterleaved',
    'CopyAllBitratesInterleaved',
  ]) {
    it(`BuiltInAssetConverterPreset ${name}`, () => {
      assert.deepEqual(engine.validatePreset({ '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: name }), []);
      assert.deepEqual(engine.validatePreset({ '@odata.type': '#MediaKind.BuiltInAssetConverterPreset', presetName: name }), []);
    });
  }

  it('ContentAwareEncoding with AMS configurations', () => {
    assert.deepEqual(
      engine.validatePreset(
        builtIn('ContentAwareEncoding', {
          configurations: {
            maxHeight: 720,
            minHeight: 180,
            maxLayers: 4,
            maxBitrateBps: 3_000_000,
            minBitrateBps: 200_000,
            complexity: 'Speed',
            keyFrameIntervalInSeconds: 2,
            interleaveOutput: 'NonInterleavedOutput',
          },
        }),
      ),
      [],
    );
  });

  it('a full AMS StandardEncoderPreset', () => {
    const preset = standard(
      [
        h264(
          [
            {
              bitrate: 3_600_000,
              maxBitrate: 4_000_000,
              bufferWindow: 'PT5S',
              width: '1280',
              height: '720',
              profile: 'High',
              level: '4.1',
              bFrames: 3,
              frameRate: '30000/1001',
              label: 'HD',
              referenceFrames: 3,
              entropyMode: 'Cabac',
              adaptiveBFrame: true,
              slices: 0,
            },
            { bitrate: 600_000, width: '50%', height: '50%', profile: 'Main', label: 'SD', crf: 23 },
          ],
          {
            keyFrameInterval: 'PT2S',
            complexity: 'Balanced',
            sceneChangeDetection: false,
            stretchMode: 'AutoSize',
            syncMode: 'Auto',
            rateControlMode: 'ABR',
            label: 'video',
          },
        ),
        { '@odata.type': '#Microsoft.Media.H265Video', layers: [{ bitrate: 1_800_000, width: '1280', height: '720', profile: 'Main10', label: 'HEVC' }] },
        { ...aac, profile: 'HeAacV1' },
        {
          '@odata.type': '#Microsoft.Media.JpgImage',
          start: '10%',
          step: 'PT5S',
          range: '80%',
          spriteColumn: 4,
          layers: [{ width: '320', height: '180', quality: 85, label: 'jpg' }],
        },
        { '@odata.type': '#Microsoft.Media.PngImage', start: '{Best}', layers: [{ width: '50%', height: '50%', label: 'png' }] },
      ],
      [
        mp4('{Basename}_{Label}_{Bitrate}{Extension}', { outputFiles: [{ labels: ['HD', 'aud'] }] }),
        { '@odata.type': '#Microsoft.Media.JpgFormat', filenamePattern: '{Basename}_{Label}_{Index}{Extension}' },
        { '@odata.type': '#Microsoft.Media.PngFormat', filenamePattern: '{Basename}_{Label}{Extension}' },
      ],
      {
        filters: {
          crop: { left: '0', top: '10', width: '100%', height: '90%' },
          deinterlace: { parity: 'Auto', mode: 'AutoPixelAdaptive' },
          rotation: 'Auto',
          overlays: [],
        },
      },
    );
    assert.deepEqual(engine.validatePreset(preset), []);
  });

  it('CopyVideo and CopyAudio (AMS CopyCodec-style remux)', () => {
    assert.deepEqual(
      engine.validatePreset(
        standard([{ '@odata.type': '#Microsoft.Media.CopyVideo' }, { '@odata.type': '#Microsoft.Media.CopyAudio' }], [mp4('{Basename}_{Codec}{Extension}')]),
      ),
      [],
    );
  });

  it('a MediaKind ThumbnailGeneratorPreset with a sprite', () => {
    assert.deepEqual(
      engine.validatePreset({
        '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
        baseFilename: 'thumb',
        thumbnails: [
          { format: 'Jpeg', start: 'PT10S', step: 'PT5S', range: '5', width: '320', height: '180', quality: 70, label: 'small', spriteColumn: 5 },
          { format: 'Png', start: '50%', width: '25%', label: 'poster' },
        ],
      }),
      [],
    );
  });
});

describe('validatePreset explains what it refuses', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['TrackInserterPreset', { '@odata.type': '#MediaKind.TrackInserterPreset', tracks: [] }, /#MediaKind\.TrackInserterPreset .* is not supported by Reel/],
    ['AIPipelinePreset', { '@odata.type': '#MediaKind.AIPipelinePreset', pipeline: { name: 'x' } }, /AIPipelinePreset .* is not supported by Reel/],
    ['VideoAnalyzerPreset', { '@odata.type': '#Microsoft.Media.VideoAnalyzerPreset' }, /VideoAnalyzerPreset .* is not supported by Reel/],
    ['an unknown type', { '@odata.type': '#Contoso.Preset' }, /preset type '#Contoso\.Preset' is not supported by Reel/],
    ['no type', { presetName: 'AdaptiveStreaming' }, /@odata\.type is required/],
    ['an unknown built-in name', builtIn('DDGoodQualityAudio'), /'DDGoodQualityAudio' is not supported by Reel \(supported: H264SingleBitrateSD/],
    ['a missing built-in name', builtIn(undefined as never), /presetName is required/],
    ['advancedSettingsName', builtIn('H264SingleBitrateSD', { advancedSettingsName: 'x' }), /advancedSettingsName .* is not supported by Reel/],
    [
      'configurations on a fixed ladder',
      builtIn('H264MultipleBitrate720p', { configurations: { maxHeight: 720 } }),
      /configurations is only supported with ContentAwareEncoding/,
    ],
    [
      'interleaved content-aware output',
      builtIn('ContentAwareEncoding', { configurations: { interleaveOutput: 'InterleavedOutput' } }),
      /InterleavedOutput is not supported by Reel/,
    ],
    [
      'an unknown converter name',
      { '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyEverything' },
      /'CopyEverything' is not supported by Reel/,
    ],
    ['a misspelt property', builtIn('H264SingleBitrateSD', { presetname: 'x' }), /preset\.presetname is not a known property/],
    [
      'a layer without bitrate',
      standard([h264([{ width: '640', height: '360' }])], [mp4()]),
      /codecs\[0\]\.layers\[0\]\.bitrate is required \(bits per second\)/,
    ],
    ['a size in an unknown unit', standard([h264([{ bitrate: 1e6, width: '640px' }])], [mp4()]), /layers\[0\]\.width must be pixels .* or a percentage/],
    [
      'a bad key frame interval',
      standard([h264([{ bitrate: 1e6 }], { keyFrameInterval: '2s' })], [mp4()]),
      /keyFrameInterval must be an ISO 8601 duration between 0\.5 and 20 seconds/,
    ],
    [
      'a bad profile',
      standard([h264([{ bitrate: 1e6, profile: 'Extended' }])], [mp4()]),
      /profile must be one of Auto, Baseline, Main, High, High422, High444 \(got .Extended.\)/,
    ],
    ['Main10 for H.264', standard([h264([{ bitrate: 1e6, profile: 'Main10' }])], [mp4()]), /profile must be one of/],
    ['maxBitrate under bitrate', standard([h264([{ bitrate: 2e6, maxBitrate: 1e6 }])], [mp4()]), /maxBitrate must not be lower than bitrate/],
    ['a bad frame rate', standard([h264([{ bitrate: 1e6, frameRate: 'fast' }])], [mp4()]), /frameRate must be a rate such as 30/],
    ['VFR', standard([h264([{ bitrate: 1e6 }], { syncMode: 'Vfr' })], [mp4()]), /syncMode Vfr is not supported by Reel/],
    [
      'scene cuts in a ladder',
      standard(
        [
          h264(
            [
              { bitrate: 1e6, label: 'a' },
              { bitrate: 5e5, label: 'b' },
            ],
            { sceneChangeDetection: true },
          ),
        ],
        [mp4()],
      ),
      /sceneChangeDetection needs a single video layer/,
    ],
    ['a Dolby codec', standard([{ '@odata.type': '#Microsoft.Media.DDAudio' }], [mp4()]), /codec "#Microsoft\.Media\.DDAudio" is not supported by Reel/],
    [
      'a TS output',
      standard([h264([{ bitrate: 1e6 }])], [{ '@odata.type': '#Microsoft.Media.TransportStreamFormat', filenamePattern: '{Basename}{Extension}' }]),
      /TransportStreamFormat" is not supported by Reel/,
    ],
    [
      'no Mp4Format for video',
      standard([h264([{ bitrate: 1e6 }])], [{ '@odata.type': '#Microsoft.Media.JpgFormat', filenamePattern: 'x{Index}{Extension}' }]),
      /needs a #Microsoft\.Media\.Mp4Format/,
    ],
    [
      'no JpgFormat for JpgImage',
      standard([{ '@odata.type': '#Microsoft.Media.JpgImage', start: 'PT1S' }], [mp4()]),
      /JpgImage.*|needs a #Microsoft\.Media\.JpgFormat/,
    ],
    [
      'images without {Index}',
      standard(
        [{ '@odata.type': '#Microsoft.Media.JpgImage', start: 'PT1S', step: 'PT1S' }],
        [{ '@odata.type': '#Microsoft.Media.JpgFormat', filenamePattern: '{Basename}{Extension}' }],
      ),
      /filenamePattern needs \{Index\}/,
    ],
    ['an unknown macro', standard([h264([{ bitrate: 1e6 }])], [mp4('{Basename}_{Height}{Extension}')]), /unknown macro\(s\) \{Height\}/],
    ['duplicate labels', standard([h264([{ bitrate: 1e6, label: 'x' }]), { ...aac, label: 'x' }], [mp4()]), /label 'x' is used more than once/],
    [
      'outputFiles naming an unknown label',
      standard([h264([{ bitrate: 1e6, label: 'HD' }]), aac], [mp4(undefined, { outputFiles: [{ labels: ['HD', 'audio'] }] })]),
      /names 'audio', which no codec or layer has/,
    ],
    [
      'two videos in one output file',
      standard(
        [
          h264([
            { bitrate: 1e6, label: 'a' },
            { bitrate: 5e5, label: 'b' },
          ]),
        ],
        [mp4(undefined, { outputFiles: [{ labels: ['a', 'b'] }] })],
      ),
      /more than one video layer/,
    ],
    [
      'a pattern giving two files one name',
      standard(
        [
          h264([
            { bitrate: 1e6, label: 'a' },
            { bitrate: 5e5, label: 'b' },
          ]),
        ],
        [mp4('{Basename}{Extension}')],
      ),
      /gives several outputs the name 'input\.mp4'/,
    ],
    ['a bad AAC sample rate', standard([{ ...aac, samplingRate: 44000 }], [mp4()]), /samplingRate must be one of 8000/],
    [
      'overlays',
      standard([h264([{ bitrate: 1e6 }])], [mp4()], { filters: { overlays: [{ '@odata.type': '#Microsoft.Media.VideoOverlay', inputLabel: 'logo' }] } }),
      /overlays is not supported by Reel/,
    ],
    ['a bad rotation', standard([h264([{ bitrate: 1e6 }])], [mp4()], { filters: { rotation: 'Rotate45' } }), /rotation must be one of Auto, None, Rotate0/],
    [
      'a thumbnail without format',
      { '@odata.type': '#MediaKind.ThumbnailGeneratorPreset', thumbnails: [{ start: 'PT1S' }] },
      /thumbnails\[0\]\.format is required/,
    ],
    [
      'a thumbnail position in seconds',
      { '@odata.type': '#MediaKind.ThumbnailGeneratorPreset', thumbnails: [{ format: 'Jpeg', start: '10s' }] },
      /start must be an ISO 8601 duration \(PT5S\), a frame number/,
    ],
    [
      'a sprite of 20 columns',
      { '@odata.type': '#MediaKind.ThumbnailGeneratorPreset', thumbnails: [{ format: 'Jpeg', spriteColumn: 20 }] },
      /spriteColumn must be an integer in 1–10/,
    ],
    [
      'a bad baseFilename',
      { '@odata.type': '#MediaKind.ThumbnailGeneratorPreset', baseFilename: 'a/b', thumbnails: [{ format: 'Png' }] },
      /baseFilename 'a\/b' must match/,
    ],
    ['no thumbnails', { '@odata.type': '#MediaKind.ThumbnailGeneratorPreset', thumbnails: [] }, /thumbnails must have at least 1 item/],
  ];
  for (const [what, preset, expected] of cases) {
    it(what, () => {
      const problems = engine.validatePreset(preset);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `expected ${expected} in ${JSON.stringify(problems)}`,
      );
    });
  }

  it('reports every problem at once', () => {
    const problems = engine.validatePreset(standard([h264([{ width: 'x' }]), { ...aac, channels: 12 }], [mp4('{Nope}{Extension}')]));
    assert.ok(problems.length >= 4, JSON.stringify(problems));
  });
});

describe('parsePreset', () => {
  it('reads CVQ presets as capped CRF with the published ladder', () => {
    const { spec } = parsePreset(builtIn('H264MultipleBitrate720pWithCVQ'));
    assert.deepEqual(
      spec?.video.map((l) => [l.rateControl, 'px' in (l.height ?? {}) ? (l.height as { px: number }).px : 0, l.bitrateBps / 1000]),
      [
        ['capped-crf', 180, 400],
        ['capped-crf', 360, 600],
        ['capped-crf', 360, 1000],
        ['capped-crf', 540, 1500],
        ['capped-crf', 540, 2250],
        ['capped-crf', 720, 3400],
      ],
    );
    assert.deepEqual(spec?.audio, [{ channels: 2, sampleRateHz: 48000, bitrateBps: 128000 }]);
  });
  it('reads AACGoodQualityAudio as audio only at 192 kbps', () => {
    const { spec } = parsePreset(builtIn('AACGoodQualityAudio'));
    assert.deepEqual([spec?.video.length, spec?.audio[0].bitrateBps], [0, 192_000]);
  });
  it('reads HE-AAC as AAC-LC at the asked bitrate', () => {
    const { spec } = parsePreset(standard([{ ...aac, profile: 'HeAacV2', bitrate: 64000 }], [mp4()]));
    assert.deepEqual(spec?.audio, [{ channels: 2, sampleRateHz: 48000, bitrateBps: 64000, label: 'aud' }]);
  });
});

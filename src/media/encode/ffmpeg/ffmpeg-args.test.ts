import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFfmpegArgs } from './ffmpeg-args.js';
import { snapFrameRate } from '../presets/frame-rate.js';
import { planEncode, type PlanSource } from '../plan/output-planner.js';
import { parsePreset } from '../presets/preset-parser.js';

const src: PlanSource = {
  input: { url: 'https://reel.example/files/a/b/clip.mp4?sig=abc', fileName: 'clip.mp4' },
  info: {
    formatName: 'mov,mp4',
    durationSec: 30,
    videos: [],
    audios: [{ streamIndex: 1, codec: 'aac', channels: 2, sampleRateHz: 48000, bitrateBps: 128_000 }],
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: 1280,
      height: 720,
      displayWidth: 1280,
      displayHeight: 720,
      rotationDeg: 0,
      sampleAspectRatio: 1,
      frameRate: snapFrameRate(30000 / 1001),
      bitrateBps: 4e6,
    },
  },
};
const argsFor = (preset: Record<string, unknown>, clip?: { startSec?: number; endSec?: number }) => {
  const { spec } = parsePreset(preset);
  assert.ok(spec);
  return buildFfmpegArgs(planEncode(spec, [src], { x264Preset: 'veryfast', x265Preset: 'fast', ...(clip ? { clip } : {}) }), {
    workDir: '/work/job',
    httpTimeoutSec: 20,
  });
};
/** The options written just before an output file: after the previous output, the graph or the last input. */
const outputArgs = (args: string[], file: string): string[] => {
  const end = args.indexOf(file);
  let start = end;
  while (start > 0 && !args[start - 1].startsWith('/work/job/') && args[start - 2] !== '-filter_complex' && args[start - 2] !== '-i') start--;
  return args.slice(start, end);
};

describe('buildFfmpegArgs', () => {
  const ladder = argsFor(
    { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate720p' },
    { startSec: 5, endSec: 15 },
  );

  it('reads an HTTP input once, with a read timeout and input seeking for the clip', () => {
    assert.equal(ladder.filter((a) => a === '-i').length, 1);
    const i = ladder.indexOf('-i');
    assert.deepEqual(ladder.slice(i - 4, i + 2), ['-ss', '5', '-t', '10', '-i', 'https://reel.example/files/a/b/clip.mp4?sig=abc']);
    assert.equal(ladder[ladder.indexOf('-rw_timeout') + 1], '20000000');
    assert.deepEqual(ladder.slice(0, 8), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y']);
  });

  it('decodes once and splits one constant-rate branch into every rung', () => {
    const graph = ladder[ladder.indexOf('-filter_complex') + 1];
    assert.equal(
      graph,
      [
        '[0:0]bwdif=mode=send_frame:parity=auto:deint=interlaced,fps=30000/1001,split=6[b0][b1][b2][b3][b4][b5]',
        '[b0]scale=320:180,setsar=1,format=yuv420p[v0]',
        '[b1]scale=640:360,setsar=1,format=yuv420p[v1]',
        '[b2]scale=640:360,setsar=1,format=yuv420p[v2]',
        '[b3]scale=960:540,setsar=1,format=yuv420p[v3]',
        '[b4]scale=960:540,setsar=1,format=yuv420p[v4]',
        '[b5]scale=1280:720,setsar=1,format=yuv420p[v5]',
      ].join(';'),
    );
  });

  it('gives every rung the same closed 2 s GOPs, no scene cuts, constant frame rate and faststart', () => {
    const rung = outputArgs(ladder, '/work/job/clip_1280x720_3400.mp4');
    const value = (flag: string) => rung[rung.indexOf(flag) + 1];
    assert.deepEqual(
      [
        '-map',
        '-c:v',
        '-preset',
        '-b:v',
        '-maxrate',
        '-bufsize',
        '-force_key_frames',
        '-forced-idr',
        '-g',
        '-keyint_min',
        '-sc_threshold',
        '-fps_mode',
        '-movflags',
        '-f',
      ].map(value),
      ['[v5]', 'libx264', 'veryfast', '3400k', '3400k', '17000k', 'expr:gte(t,n_forced*2)', '1', '60', '60', '0', 'cfr', '+faststart', 'mp4'],
    );
    assert.ok(!rung.includes('-c:a'), 'video renditions carry no audio');
  });

  it('encodes the audio once, into its own MP4', () => {
    const audio = outputArgs(ladder, '/work/job/clip_AACAudio_128.mp4');
    assert.deepEqual(audio.slice(0, 10), ['-map', '0:1', '-c:a:0', 'aac', '-b:a:0', '128k', '-ac:a:0', '2', '-ar:a:0', '48000']);
  });

  it('writes H.265 as hvc1 with keyint and scene cuts in x265-params', () => {
    const args = argsFor({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H265SingleBitrate720p' });
    const rung = outputArgs(args, '/work/job/clip_1280x720_1800.mp4');
    assert.equal(rung[rung.indexOf('-c:v') + 1], 'libx265');
    assert.equal(rung[rung.indexOf('-x265-params') + 1], 'keyint=60:open-gop=0:log-level=error:min-keyint=60:scenecut=0');
    assert.equal(rung[rung.indexOf('-tag:v') + 1], 'hvc1');
  });

  it('applies StandardEncoderPreset layer settings', () => {
    const args = argsFor({
      '@odata.type': '#Microsoft.Media.StandardEncoderPreset',
      codecs: [
        {
          '@odata.type': '#Microsoft.Media.H264Video',
          keyFrameInterval: 'PT4S',
          rateControlMode: 'CBR',
          complexity: 'Quality',
          layers: [
            {
              bitrate: 2_000_000,
              bufferWindow: 'PT2S',
              profile: 'Baseline',
              level: '3.1',
              bFrames: 0,
              referenceFrames: 2,
              entropyMode: 'Cavlc',
              frameRate: '15',
              width: '640',
              height: '360',
            },
          ],
        },
      ],
      formats: [{ '@odata.type': '#Microsoft.Media.Mp4Format', filenamePattern: 'out{Extension}' }],
    });
    const rung = outputArgs(args, '/work/job/out.mp4');
    const value = (flag: string) => rung[rung.indexOf(flag) + 1];
    assert.deepEqual(
      ['-preset', '-profile:v', '-level:v', '-b:v', '-minrate', '-maxrate', '-bufsize', '-force_key_frames', '-g', '-bf', '-refs', '-coder'].map(value),
      ['faster', 'baseline', '3.1', '2000k', '2000k', '2000k', '4000k', 'expr:gte(t,n_forced*4)', '60', '0', '2', 'cavlc'],
    );
    assert.match(args[args.indexOf('-filter_complex') + 1], /\[b0\]fps=15,scale=640:360,setsar=1,format=yuv420p\[v0\]/);
  });

  it('picks thumbnail frames in the shared graph and writes them with image2', () => {
    const args = argsFor({
      '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
      baseFilename: 'thumb',
      thumbnails: [
        { format: 'Jpeg', start: 'PT1S', step: 'PT2S', range: '3', width: '320', height: '180', quality: 70, label: 'a' },
        { format: 'Png', start: 'PT0S', step: 'PT5S', range: 'PT20S', width: '160', height: '90', label: 's', spriteColumn: 2 },
      ],
    });
    const graph = args[args.indexOf('-filter_complex') + 1];
    assert.match(graph, /\[b0\]trim=end=5\.066733,select='gte\(t\\,1\+2\*selected_n\)',scale=320:180,setsar=1,format=yuvj420p\[i0\]/);
    assert.match(graph, /\[b1\]trim=end=15\.066733,select='gte\(t\\,0\+5\*selected_n\)',scale=160:90,setsar=1,format=rgb24,tile=2x2\[i1\]/);
    const jpg = outputArgs(args, '/work/job/thumb_a%d.jpg');
    assert.deepEqual(jpg, [
      '-map',
      '[i0]',
      '-frames:v',
      '3',
      '-fps_mode',
      'passthrough',
      '-c:v',
      'mjpeg',
      '-q:v',
      '11',
      '-map_metadata',
      '-1',
      '-f',
      'image2',
      '-start_number',
      '1',
    ]);
    assert.ok(args.includes('/work/job/thumb_s.png'));
  });

  it('remuxes without re-encoding for the converter', () => {
    const args = argsFor({ '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyTopBitrateInterleaved' });
    assert.ok(!args.includes('-filter_complex'));
    assert.deepEqual(outputArgs(args, '/work/job/clip.mp4').slice(0, 8), ['-map', '0:0', '-c:v', 'copy', '-map', '0:1', '-c:a:0', 'copy']);
  });
});

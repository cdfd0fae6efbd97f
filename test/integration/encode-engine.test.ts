import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EncodeError, type EncodeResult } from '../../src/media/encode/encode-engine.js';
import { FfmpegEncodeEngine } from '../../src/media/encode/ffmpeg/ffmpeg-encode-engine.js';
import { parseIsm } from '../../src/shared/ism.js';
import { makeClip, makeCorruptInputs } from '../fixtures/encode-media.js';

// Real ffmpeg on media the fixtures generate; x264/x265 'ultrafast' keeps the file well within its time budget.
const engine = new FfmpegEncodeEngine({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', x264Preset: 'ultrafast', x265Preset: 'ultrafast', httpTimeoutSec: 10 });
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-encode-'));
let src640: string;
let src1080: string;
let jobCount = 0;

before(() => {
  src640 = makeClip({ seconds: 5, width: 640, height: 360 });
  src1080 = makeClip({ seconds: 3, width: 1920, height: 1080 });
});
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function newWorkDir(): string {
  const dir = path.join(tmpRoot, `job-${++jobCount}`);
  fs.mkdirSync(dir);
  return dir;
}

async function encode(
  preset: Record<string, unknown>,
  options: { url?: string; fileName?: string; clip?: { startSec?: number; endSec?: number }; inputs?: Array<{ url: string; fileName: string }> } = {},
) {
  const workDir = newWorkDir();
  const progress: number[] = [];
  assert.deepEqual(engine.validatePreset(preset), [], 'the preset validates');
  const result = await engine.run({
    preset,
    inputs: options.inputs ?? [{ url: options.url ?? src640, fileName: options.fileName ?? 'clip.mp4' }],
    workDir,
    signal: new AbortController().signal,
    onProgress: (p) => progress.push(p),
    ...(options.clip ? { clip: options.clip } : {}),
  });
  return { result, workDir, progress, names: result.files.map((f) => f.name).sort() };
}

interface Probe {
  durationSec: number;
  streams: Array<{
    codec_type: string;
    codec_name: string;
    codec_tag_string: string;
    width?: number;
    height?: number;
    r_frame_rate?: string;
    channels?: number;
    sample_rate?: string;
  }>;
}
function probe(file: string): Probe {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]).toString()) as {
    format: { duration: string };
    streams: Probe['streams'];
  };
  return { durationSec: Number(out.format.duration), streams: out.streams };
}
function keyFrameTimes(file: string): number[] {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-skip_frame',
    'nokey',
    '-show_entries',
    'frame=pts_time',
    '-of',
    'json',
    file,
  ]).toString();
  return (JSON.parse(out) as { frames: Array<{ pts_time: string }> }).frames.map((f) => Math.round(Number(f.pts_time) * 1000) / 1000);
}
const fileOf = (r: { result: EncodeResult }, name: string) => {
  const f = r.result.files.find((x) => x.name === name);
  assert.ok(f, `${name} is in the result`);
  return f;
};

/** What a user checks on a ladder: each file, its size and length, GOPs every 2 s aligned across rungs, and the .ism. */
function assertLadder(
  r: Awaited<ReturnType<typeof encode>>,
  expected: { ism: string; video: Array<[string, number, number]>; audio: string[]; durationSec: number; codec?: string; otherFiles?: string[] },
) {
  assert.deepEqual(r.names, [...expected.video.map((v) => v[0]), ...expected.audio, expected.ism, ...(expected.otherFiles ?? [])].sort());
  assert.deepEqual(fs.readdirSync(r.workDir).sort(), r.names, 'exactly the returned files are in the work directory');
  const frame = 1 / 25;
  const expectedKeys = Array.from({ length: Math.ceil(expected.durationSec / 2) }, (_, i) => i * 2);
  for (const [name, width, height] of expected.video) {
    const f = fileOf(r, name);
    assert.deepEqual([f.contentType, f.size > 0, f.path], ['video/mp4', true, path.join(r.workDir, name)]);
    const p = probe(f.path);
    assert.deepEqual(
      p.streams.map((s) => [s.codec_type, s.codec_name, s.width, s.height]),
      [['video', expected.codec ?? 'h264', width, height]],
      `${name} is video only, ${width}x${height}`,
    );
    assert.ok(Math.abs(p.durationSec - expected.durationSec) <= 2 * frame, `${name} lasts ${p.durationSec} s`);
    assert.deepEqual(keyFrameTimes(f.path), expectedKeys, `${name} has a key frame every 2 s`);
  }
  for (const name of expected.audio) {
    const f = fileOf(r, name);
    assert.equal(f.contentType, 'audio/mp4');
    const p = probe(f.path);
    assert.deepEqual(
      p.streams.map((s) => [s.codec_type, s.codec_name, s.channels, s.sample_rate]),
      [['audio', 'aac', 2, '48000']],
    );
    assert.ok(Math.abs(p.durationSec - expected.durationSec) <= 0.05, `${name} lasts ${p.durationSec} s`);
  }
  const ism = fileOf(r, expected.ism);
  assert.equal(ism.contentType, 'application/vnd.ms-sstr+xml');
  const parsed = parseIsm(fs.readFileSync(ism.path, 'utf8'));
  assert.deepEqual(parsed.body.video.map((v) => v.src).sort(), expected.video.map((v) => v[0]).sort());
  assert.deepEqual(
    parsed.body.audio.map((a) => a.src),
    expected.audio,
  );
  for (const v of parsed.body.video) assert.deepEqual([v.trackID, v.trackName, Number(v.systemBitrate) > 0], ['1', 'video', true]);
  // Progress: whole numbers, increasing, ending at 100.
  assert.ok(r.progress.length > 0 && r.progress.at(-1) === 100, `progress ends at 100: ${r.progress.join(',')}`);
  assert.ok(
    r.progress.every((p, i) => Number.isInteger(p) && p >= 0 && p <= 100 && (i === 0 || p > r.progress[i - 1])),
    `progress increases: ${r.progress.join(',')}`,
  );
}

describe('FfmpegEncodeEngine: built-in presets', () => {
  it('H264SingleBitrateSD on a 640x360 input keeps its one rung at the input size (never upscales)', async () => {
    const r = await encode({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrateSD' }, { fileName: 'My Clip.mp4' });
    assertLadder(r, { ism: 'My_Clip.ism', video: [['My_Clip_640x360_2200.mp4', 640, 360]], audio: ['My_Clip_AACAudio_128.mp4'], durationSec: 5 });
  });

  it('H264MultipleBitrate720p on a 640x360 input: the rungs up to 360p, GOP-aligned', async () => {
    const r = await encode({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate720p' });
    assertLadder(r, {
      ism: 'clip.ism',
      durationSec: 5,
      audio: ['clip_AACAudio_128.mp4'],
      video: [
        ['clip_320x180_400.mp4', 320, 180],
        ['clip_640x360_600.mp4', 640, 360],
        ['clip_640x360_1000.mp4', 640, 360],
      ],
    });
    // The higher rung really spends more bits.
    assert.ok(fileOf(r, 'clip_640x360_1000.mp4').size > fileOf(r, 'clip_640x360_600.mp4').size);
  });

  it('H264MultipleBitrate1080p on a 1080p input: the full published ladder', async () => {
    const r = await encode(
      { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate1080p' },
      { url: src1080, fileName: 'hd.mp4' },
    );
    assertLadder(r, {
      ism: 'hd.ism',
      durationSec: 3,
      audio: ['hd_AACAudio_128.mp4'],
      video: [
        ['hd_320x180_400.mp4', 320, 180],
        ['hd_640x360_600.mp4', 640, 360],
        ['hd_640x360_1000.mp4', 640, 360],
        ['hd_960x540_1500.mp4', 960, 540],
        ['hd_960x540_2250.mp4', 960, 540],
        ['hd_1280x720_3400.mp4', 1280, 720],
        ['hd_1920x1080_4700.mp4', 1920, 1080],
        ['hd_1920x1080_6000.mp4', 1920, 1080],
      ],
    });
  });

  it('H265SingleBitrate720p with a clip from 1 s to 4 s: HEVC (hvc1), 3 s long', async () => {
    const r = await encode(
      { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H265SingleBitrate720p' },
      { clip: { startSec: 1, endSec: 4 } },
    );
    assertLadder(r, { ism: 'clip.ism', video: [['clip_640x360_1800.mp4', 640, 360]], audio: ['clip_AACAudio_128.mp4'], durationSec: 3, codec: 'hevc' });
    assert.equal(probe(fileOf(r, 'clip_640x360_1800.mp4').path).streams[0].codec_tag_string, 'hvc1');
  });

  it('AACGoodQualityAudio writes only the audio at 192 kbps', async () => {
    const r = await encode({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'AACGoodQualityAudio' });
    assertLadder(r, { ism: 'clip.ism', video: [], audio: ['clip_AACAudio_192.mp4'], durationSec: 5 });
    assert.deepEqual(
      parseIsm(fs.readFileSync(fileOf(r, 'clip.ism').path, 'utf8')).body.audio.map((a) => [a.systemBitrate, a.trackName]),
      [['192000', 'aac_und_2_192']],
    );
  });

  for (const presetName of ['AdaptiveStreaming', 'ContentAwareEncoding']) {
    it(`${presetName} on a 640x360 input: a ladder with no rung above 360p`, async () => {
      const r = await encode({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName });
      const videos = r.result.files.filter((f) => f.contentType === 'video/mp4');
      assert.ok(videos.length >= 2, `several rungs: ${r.names.join(', ')}`);
      const sizes = videos.map((f) => probe(f.path).streams[0]).map((s) => [s.width as number, s.height as number]);
      assert.ok(
        sizes.every(([w, h]) => h <= 360 && w <= 640),
        JSON.stringify(sizes),
      );
      assert.ok(
        sizes.some(([, h]) => h === 360),
        'the top rung is the input size',
      );
      const keys = videos.map((f) => keyFrameTimes(f.path));
      for (const k of keys) assert.deepEqual(k, [0, 2, 4]);
      const ism = parseIsm(fs.readFileSync(fileOf(r, 'clip.ism').path, 'utf8'));
      assert.deepEqual(ism.body.video.map((v) => v.src).sort(), videos.map((f) => f.name).sort());
      assert.equal(ism.body.audio.length, 1);
    });
  }
});

describe('FfmpegEncodeEngine: asset converter', () => {
  let ladder: Awaited<ReturnType<typeof encode>>;
  before(async () => {
    ladder = await encode({ '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate720p' }, { fileName: 'movie.mp4' });
  });
  const inputsOf = () => ladder.result.files.map((f) => ({ url: f.path, fileName: f.name }));

  it('CopyAllBitratesNonInterleaved remuxes every rendition of an asset without re-encoding', async () => {
    const r = await encode(
      { '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyAllBitratesNonInterleaved' },
      { inputs: inputsOf() },
    );
    // The renditions keep their names, and the .ism takes the name they share.
    assert.deepEqual(r.names, ladder.names);
    const ism = parseIsm(fs.readFileSync(fileOf(r, 'movie.ism').path, 'utf8'));
    assert.equal(ism.body.video.length, 3);
    assert.equal(ism.body.audio.length, 1);
    for (const item of [...ism.body.video, ...ism.body.audio]) {
      const out = probe(path.join(r.workDir, item.src));
      const source = ladder.result.files.find((f) => f.name === item.src);
      assert.ok(source, `${item.src} comes from an input`);
      const before = probe(source.path);
      assert.deepEqual(
        out.streams.map((s) => [s.codec_name, s.width, s.height]),
        before.streams.map((s) => [s.codec_name, s.width, s.height]),
      );
      assert.ok(Math.abs(out.durationSec - before.durationSec) < 0.05);
      assert.deepEqual(keyFrameTimes(path.join(r.workDir, item.src)), before.streams[0].codec_type === 'video' ? [0, 2, 4] : []);
    }
  });

  it('CopyTopBitrateInterleaved keeps the best rendition with its audio in one MP4', async () => {
    const r = await encode({ '@odata.type': '#Microsoft.Media.BuiltInAssetConverterPreset', presetName: 'CopyTopBitrateInterleaved' }, { inputs: inputsOf() });
    assert.deepEqual(r.names, ['movie.ism', 'movie_640x360_1000.mp4']);
    const p = probe(fileOf(r, 'movie_640x360_1000.mp4').path);
    assert.deepEqual(
      p.streams.map((s) => [s.codec_type, s.width ?? s.channels]),
      [
        ['video', 640],
        ['audio', 2],
      ],
    );
    const ism = parseIsm(fs.readFileSync(fileOf(r, 'movie.ism').path, 'utf8'));
    assert.deepEqual(
      [ism.body.video.map((v) => [v.src, v.trackID]), ism.body.audio.map((a) => [a.src, a.trackID])],
      [[['movie_640x360_1000.mp4', '1']], [['movie_640x360_1000.mp4', '2']]],
    );
  });
});

describe('FfmpegEncodeEngine: StandardEncoderPreset and thumbnails', () => {
  it('two H.264 layers + AAC + JPEG thumbnails named by filenamePattern', async () => {
    const r = await encode({
      '@odata.type': '#Microsoft.Media.StandardEncoderPreset',
      codecs: [
        {
          '@odata.type': '#Microsoft.Media.H264Video',
          keyFrameInterval: 'PT2S',
          layers: [
            { bitrate: 800_000, width: '640', height: '360', profile: 'High', label: 'HD' },
            { bitrate: 300_000, width: '50%', height: '50%', profile: 'Main', bFrames: 0, label: 'SD' },
          ],
        },
        { '@odata.type': '#Microsoft.Media.AacAudio', channels: 2, samplingRate: 48000, bitrate: 96_000, label: 'aud' },
        {
          '@odata.type': '#Microsoft.Media.JpgImage',
          start: 'PT1S',
          step: 'PT1S',
          range: 'PT3S',
          layers: [{ width: '320', height: '180', quality: 90, label: 'thumb' }],
        },
      ],
      formats: [
        { '@odata.type': '#Microsoft.Media.Mp4Format', filenamePattern: 'Video-{Basename}-{Label}-{Bitrate}{Extension}' },
        { '@odata.type': '#Microsoft.Media.JpgFormat', filenamePattern: 'Thumbnail-{Basename}-{Label}-{Index}{Extension}' },
      ],
    });
    assertLadder(r, {
      ism: 'clip.ism',
      durationSec: 5,
      audio: ['Video-clip-aud-96.mp4'],
      video: [
        ['Video-clip-HD-800.mp4', 640, 360],
        ['Video-clip-SD-300.mp4', 320, 180],
      ],
      otherFiles: [1, 2, 3].map((i) => `Thumbnail-clip-thumb-00000${i}.jpg`),
    });
    const thumbs = r.result.files.filter((f) => f.name.endsWith('.jpg'));
    assert.deepEqual(
      thumbs.map((f) => [f.name, f.contentType]),
      [1, 2, 3].map((i) => [`Thumbnail-clip-thumb-00000${i}.jpg`, 'image/jpeg']),
    );
    for (const [i, t] of thumbs.entries()) {
      assert.deepEqual(
        probe(t.path).streams.map((s) => [s.codec_name, s.width, s.height]),
        [['mjpeg', 320, 180]],
      );
      // Each thumbnail shows the input's frame at 1, 2 and 3 s: closer to it than to the frames a second away.
      const own = pixelDistance(t.path, i + 1);
      assert.ok(own < pixelDistance(t.path, i + 1.52) && own < pixelDistance(t.path, i + 0.48), `${t.name} is the frame at ${i + 1} s`);
    }
  });

  it('ThumbnailGeneratorPreset writes a sprite with its WebVTT index, and single images', async () => {
    const r = await encode({
      '@odata.type': '#MediaKind.ThumbnailGeneratorPreset',
      baseFilename: 'thumb',
      thumbnails: [
        { format: 'Jpeg', start: 'PT0S', step: 'PT1S', range: '5', width: '160', height: '90', quality: 70, label: 'small', spriteColumn: 3 },
        { format: 'Png', start: '50%', width: '50%', label: 'poster' },
      ],
    });
    assert.deepEqual(r.names, ['thumb_poster1.png', 'thumb_small.jpg', 'thumb_small.vtt']);
    assert.deepEqual(
      probe(fileOf(r, 'thumb_small.jpg').path).streams.map((s) => [s.width, s.height]),
      [[480, 180]],
      'five 160x90 images tiled 3 across',
    );
    assert.deepEqual(
      probe(fileOf(r, 'thumb_poster1.png').path).streams.map((s) => [s.codec_name, s.width, s.height]),
      [['png', 320, 180]],
    );
    const vtt = fs.readFileSync(fileOf(r, 'thumb_small.vtt').path, 'utf8');
    assert.equal(fileOf(r, 'thumb_small.vtt').contentType, 'text/vtt');
    assert.match(vtt, /^WEBVTT\n/);
    assert.deepEqual(
      [...vtt.matchAll(/(\S+) --> (\S+)\n(\S+)/g)].map((m) => m.slice(1)),
      [
        ['00:00:00.000', '00:00:01.000', 'thumb_small.jpg#xywh=0,0,160,90'],
        ['00:00:01.000', '00:00:02.000', 'thumb_small.jpg#xywh=160,0,160,90'],
        ['00:00:02.000', '00:00:03.000', 'thumb_small.jpg#xywh=320,0,160,90'],
        ['00:00:03.000', '00:00:04.000', 'thumb_small.jpg#xywh=0,90,160,90'],
        ['00:00:04.000', '00:00:05.000', 'thumb_small.jpg#xywh=160,90,160,90'],
      ],
    );
  });
});

describe('FfmpegEncodeEngine: failures', () => {
  const sd = { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrateSD' };
  const corrupt = () => makeCorruptInputs(path.join(tmpRoot, 'corrupt'));
  async function failure(url: string, eng = engine): Promise<{ error: EncodeError; workDir: string }> {
    const workDir = newWorkDir();
    const error = await eng.run({ preset: sd, inputs: [{ url, fileName: 'upload.mp4' }], workDir, signal: new AbortController().signal }).then(
      () => assert.fail('the job should fail'),
      (e: unknown) => e as EncodeError,
    );
    assert.ok(error instanceof EncodeError, String(error));
    return { error, workDir };
  }

  const corruptCases: Array<[string, (c: ReturnType<typeof corrupt>) => string, RegExp]> = [
    ['random bytes', (c) => c.randomBytes, /moov atom not found|Invalid data found when processing input/],
    ['a camera MP4 cut before its moov', (c) => c.truncatedNoMoov, /moov atom not found/],
    ['a fast-start MP4 cut in its media data', (c) => c.truncatedMidData, /truncated: .*partial file/],
  ];
  for (const [what, file, reason] of corruptCases) {
    it(`${what} → ContentMalformed with ffmpeg's reason, and no files left`, async () => {
      const { error, workDir } = await failure(file(corrupt()));
      assert.deepEqual([error.code, error.category, error.retry], ['ContentMalformed', 'Content', 'DoNotRetry']);
      assert.match(error.message, reason);
      assert.deepEqual(fs.readdirSync(workDir), []);
    });
  }

  it('a missing ffmpeg → ServiceError naming the path', async () => {
    const { error } = await failure(src640, new FfmpegEncodeEngine({ ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: 'ffprobe' }));
    assert.equal(error.code, 'ServiceError');
    assert.match(error.message, /ffmpeg not found at \/nonexistent\/ffmpeg/);
  });

  it('abort mid-run: rejects with the reason, ffmpeg is gone, nothing is left', async () => {
    const slow = new FfmpegEncodeEngine({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', x264Preset: 'medium' });
    const workDir = newWorkDir();
    const controller = new AbortController();
    const reason = new Error('job canceled');
    let sawProgress = false;
    const run = slow.run({
      preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264MultipleBitrate1080p' },
      inputs: [{ url: src1080, fileName: 'hd.mp4' }],
      workDir,
      signal: controller.signal,
      onProgress: () => {
        sawProgress = true;
      },
    });
    const outcome = run.then(
      () => 'finished',
      (e: unknown) => e,
    );
    const pid = await findFfmpeg(workDir, () => sawProgress);
    assert.ok(pid, 'ffmpeg was running for this job');
    assert.ok(fs.readdirSync(workDir).length > 0, 'ffmpeg had started writing');
    controller.abort(reason);
    assert.equal(await outcome, reason);
    assert.equal(fs.existsSync(`/proc/${pid}`), false, `ffmpeg ${pid} is gone`);
    assert.deepEqual(fs.readdirSync(workDir), []);
  });
});

describe('FfmpegEncodeEngine: HTTP inputs', () => {
  let server: http.Server;
  let base: string;
  const requests: Array<{ method: string; url: string; range?: string }> = [];
  before(async () => {
    server = http.createServer((req, res) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/files/clip.mp4' || url.searchParams.get('sig') !== 'secret') {
        res.writeHead(url.pathname === '/files/clip.mp4' ? 403 : 404).end();
        return;
      }
      const size = fs.statSync(src640).size;
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      const start = m?.[1] ? Number(m[1]) : 0;
      const end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      res.writeHead(m ? 206 : 200, {
        'content-type': 'video/mp4',
        'accept-ranges': 'bytes',
        'content-length': String(end - start + 1),
        ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      fs.createReadStream(src640, { start, end }).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('encodes from a signed URL read with Range requests', async () => {
    requests.length = 0;
    const r = await encode(
      { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrateSD' },
      { url: `${base}/files/clip.mp4?sig=secret`, fileName: 'clip.mp4' },
    );
    assertLadder(r, { ism: 'clip.ism', video: [['clip_640x360_2200.mp4', 640, 360]], audio: ['clip_AACAudio_128.mp4'], durationSec: 5 });
    assert.ok(
      requests.some((q) => q.method === 'GET' && q.range),
      'ffmpeg read the file over HTTP',
    );
  });

  for (const [what, suffix, status] of [
    ['a 404', '/files/missing.mp4?sig=secret', 404],
    ['a refused signature (403)', '/files/clip.mp4?sig=wrong', 403],
  ] as const) {
    it(`${what} → DownloadNotAccessible without the signature in the message`, async () => {
      const workDir = newWorkDir();
      const error = await engine
        .run({
          preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'H264SingleBitrateSD' },
          inputs: [{ url: `${base}${suffix}`, fileName: 'clip.mp4' }],
          workDir,
          signal: new AbortController().signal,
        })
        .then(
          () => assert.fail('the job should fail'),
          (e: unknown) => e as EncodeError,
        );
      assert.deepEqual([error.code, error.category], ['DownloadNotAccessible', 'Download']);
      assert.match(error.message, new RegExp(`HTTP ${status}`));
      assert.doesNotMatch(error.message, /sig=|secret|wrong/);
      assert.deepEqual(fs.readdirSync(workDir), []);
    });
  }

  it('an input larger than maxInputBytes is refused before it is read', async () => {
    const small = new FfmpegEncodeEngine({ ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', maxInputBytes: 1000 });
    requests.length = 0;
    const error = await small
      .run({
        preset: { '@odata.type': '#Microsoft.Media.BuiltInStandardEncoderPreset', presetName: 'AACGoodQualityAudio' },
        inputs: [{ url: `${base}/files/clip.mp4?sig=secret`, fileName: 'clip.mp4' }],
        workDir: newWorkDir(),
        signal: new AbortController().signal,
      })
      .then(
        () => assert.fail('the job should fail'),
        (e: unknown) => e as EncodeError,
      );
    assert.equal(error.code, 'ContentUnsupported');
    assert.match(error.message, /larger than this server's limit of 1000 bytes/);
    assert.deepEqual(
      requests.map((q) => q.method),
      ['HEAD'],
    );
  });
});

/** The pid of the ffmpeg writing into `workDir`, once `ready()` says it has made progress. */
async function findFfmpeg(workDir: string, ready: () => boolean): Promise<number | undefined> {
  for (let i = 0; i < 600; i++) {
    const pids = spawnSync('pgrep', ['-f', workDir]).stdout.toString().split('\n').filter(Boolean).map(Number);
    const pid = pids.find(
      (p) =>
        fs.existsSync(`/proc/${p}/cmdline`) &&
        fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('ffmpeg\0') &&
        fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('-filter_complex'),
    );
    if (pid && ready()) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** Mean absolute difference (0–255) between an image and the input's frame at `t` seconds, as 64x36 grey. */
function pixelDistance(image: string, t: number): number {
  const grey = (args: string[]) =>
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, '-frames:v', '1', '-vf', 'scale=64:36,format=gray', '-f', 'rawvideo', '-']);
  const a = grey(['-i', image]);
  const b = grey(['-ss', String(t), '-i', src640]);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

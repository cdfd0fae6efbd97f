import path from 'node:path';
import type { AudioEncodeTrack, EncodePlan, ImageOutputPlan, Mp4OutputPlan, VideoEncodeTrack } from '../plan/encode-plan.js';
import { inputOptions } from './input-options.js';

/**
 * The one ffmpeg command of a plan: the input is decoded once, a shared branch (deinterlace, rotation,
 * crop, constant frame rate) is split into every rung and image series, and each file is its own output.
 * Every rung gets key frames at the same times (`-force_key_frames` on the output clock, scene cuts off,
 * `-g`/`keyint_min` equal), so the origin can cut all renditions into aligned segments.
 */
export function buildFfmpegArgs(plan: EncodePlan, options: { workDir: string; httpTimeoutSec: number }): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y'];
  for (const input of plan.inputs) {
    if (input.isNoAutorotate) args.push('-noautorotate');
    args.push(...inputOptions(input.url, options.httpTimeoutSec));
    if (input.seekSec !== undefined) args.push('-ss', seconds(input.seekSec));
    if (input.durationSec !== undefined) args.push('-t', seconds(input.durationSec));
    args.push('-i', input.url);
  }
  const videoTracks = plan.mp4.flatMap((f) => f.tracks).filter((t): t is VideoEncodeTrack => t.kind === 'video-encode');
  const graph = filterGraph(plan, videoTracks);
  if (graph) args.push('-filter_complex', graph);
  const out = (name: string) => path.join(options.workDir, name);
  for (const file of plan.mp4) args.push(...mp4OutputArgs(file, plan, videoTracks), out(file.name));
  plan.images.forEach((img, j) => args.push(...imageOutputArgs(img, j), out(img.sprite ? img.sprite.name : (img.ffmpegPattern ?? img.names[0]))));
  return args;
}

/** `[0:0]bwdif…,fps=25,split=3[b0][b1][b2];[b0]scale=640:360,setsar=1,format=yuv420p[v0];…` */
export function filterGraph(plan: EncodePlan, videoTracks: VideoEncodeTrack[]): string | undefined {
  const p = plan.picture;
  if (!p || videoTracks.length + plan.images.length === 0) return undefined;
  const shared: string[] = [];
  if (p.deinterlace) shared.push(`bwdif=mode=send_frame:parity=${p.deinterlace.parity}:deint=interlaced`);
  if (p.rotateFilter) shared.push(p.rotateFilter);
  if (p.isAnamorphic) shared.push("scale=w='trunc(iw*sar/2)*2':h=ih,setsar=1");
  if (p.crop) shared.push(`crop=${p.crop.width}:${p.crop.height}:${p.crop.x}:${p.crop.y}`);
  shared.push(`fps=${p.frameRate.text}`);
  const branches = videoTracks.length + plan.images.length;
  const labels = Array.from({ length: branches }, (_, i) => `[b${i}]`);
  const chains = [`[${p.inputIndex}:${p.streamIndex}]${shared.join(',')},split=${branches}${labels.join('')}`];
  videoTracks.forEach((t, k) => {
    const f = [...(t.frameRate ? [`fps=${t.frameRate.text}`] : []), ...scaleFilters(t), `format=${t.pixelFormat}`];
    chains.push(`[b${k}]${f.join(',')}[v${k}]`);
  });
  plan.images.forEach((img, j) => {
    chains.push(`[b${videoTracks.length + j}]${imageFilters(img, plan.durationSec, p.frameRate.value).join(',')}[i${j}]`);
  });
  return chains.join(';');
}

function scaleFilters(t: { width: number; height: number; fit: 'scale' | 'pad'; scaledWidth: number; scaledHeight: number }): string[] {
  if (t.fit === 'pad') return [`scale=${t.scaledWidth}:${t.scaledHeight}`, `pad=${t.width}:${t.height}:(ow-iw)/2:(oh-ih)/2`, 'setsar=1'];
  return [`scale=${t.width}:${t.height}`, 'setsar=1'];
}

/**
 * Picks the frames of an image series. `trim` ends the branch right after the last image so `split` stops
 * feeding it (a finished output that is not drained would otherwise queue frames for the rest of the run).
 */
function imageFilters(img: ImageOutputPlan, durationSec: number, fps: number): string[] {
  const f: string[] = [];
  if (img.selection.kind === 'best') {
    const frames = Math.max(1, Math.round(img.selection.windowSec * fps));
    f.push(`trim=end=${seconds(img.selection.windowSec)}`, `thumbnail=n=${frames}`);
  } else {
    const times = img.selection.timesSec;
    const last = times[times.length - 1];
    if (last + 2 / fps < durationSec) f.push(`trim=end=${seconds(last + 2 / fps)}`);
    // The first frame at or after each planned time: the n-th pick happens once t reaches start + n × step.
    const pick =
      times.length === 1 ? `gte(t\\,${seconds(times[0])})*eq(selected_n\\,0)` : `gte(t\\,${seconds(times[0])}+${seconds(img.selection.stepSec)}*selected_n)`;
    f.push(`select='${pick}'`);
  }
  f.push(...scaleFilters(img), img.format === 'jpg' ? 'format=yuvj420p' : 'format=rgb24');
  if (img.sprite) f.push(`tile=${img.sprite.columns}x${img.sprite.rows}`);
  return f;
}

function mp4OutputArgs(file: Mp4OutputPlan, plan: EncodePlan, videoTracks: VideoEncodeTrack[]): string[] {
  const args: string[] = [];
  let audioIndex = 0;
  for (const t of file.tracks) {
    if (t.kind === 'video-encode') {
      args.push('-map', `[v${videoTracks.indexOf(t)}]`, ...videoCodecArgs(t));
    } else if (t.kind === 'audio-encode') {
      const src = plan.audioSource as NonNullable<EncodePlan['audioSource']>;
      args.push('-map', `${src.inputIndex}:${src.streamIndex}`, ...audioCodecArgs(t, audioIndex++));
    } else {
      args.push('-map', `${t.inputIndex}:${t.streamIndex}`);
      if (t.media === 'video') args.push('-c:v', 'copy');
      else args.push(`-c:a:${audioIndex++}`, 'copy');
    }
  }
  // No source metadata or chapters: outputs describe themselves, and titles/GPS tags stay with the source.
  args.push('-map_metadata', '-1', '-map_chapters', '-1', '-max_muxing_queue_size', '4096', '-movflags', '+faststart', '-f', 'mp4');
  return args;
}

export function videoCodecArgs(t: VideoEncodeTrack): string[] {
  const a: string[] = [];
  const isH264 = t.codec === 'h264';
  a.push('-c:v', isH264 ? 'libx264' : 'libx265', '-preset', t.speedPreset);
  if (t.profile) a.push('-profile:v', t.profile);
  if (t.level && isH264) a.push('-level:v', t.level);
  const kbps = (bps: number) => `${Math.round(bps / 1000)}k`;
  switch (t.rateControl) {
    case 'abr':
      a.push('-b:v', kbps(t.bitrateBps));
      break;
    case 'cbr':
      a.push('-b:v', kbps(t.bitrateBps), '-minrate', kbps(t.bitrateBps));
      break;
    case 'crf':
    case 'capped-crf':
      a.push('-crf', String(t.crf));
      break;
  }
  if (t.maxBitrateBps !== undefined) a.push('-maxrate', kbps(t.maxBitrateBps));
  if (t.bufferSizeBits !== undefined) a.push('-bufsize', kbps(t.bufferSizeBits));
  // Closed GOPs of a fixed duration on the output clock, identical in every rung.
  a.push('-force_key_frames', `expr:gte(t,n_forced*${seconds(t.keyFrameIntervalSec)})`, '-forced-idr', '1');
  if (isH264) {
    a.push('-g', String(t.gopFrames));
    if (!t.isSceneChangeDetection) a.push('-keyint_min', String(t.gopFrames), '-sc_threshold', '0');
    if (t.bFrames !== undefined) a.push('-bf', String(t.bFrames));
    if (t.referenceFrames !== undefined) a.push('-refs', String(t.referenceFrames));
    if (t.slices) a.push('-slices', String(t.slices));
    if (t.entropyMode) a.push('-coder', t.entropyMode);
    if (t.adaptiveBFrame === false) a.push('-x264-params', 'b-adapt=0');
  } else {
    const p = [`keyint=${t.gopFrames}`, 'open-gop=0', 'log-level=error'];
    if (!t.isSceneChangeDetection) p.push(`min-keyint=${t.gopFrames}`, 'scenecut=0');
    if (t.bFrames !== undefined) p.push(`bframes=${t.bFrames}`);
    if (t.referenceFrames !== undefined) p.push(`ref=${t.referenceFrames}`);
    if (t.level) p.push(`level-idc=${t.level}`);
    if (t.adaptiveBFrame === false) p.push('b-adapt=0');
    // hvc1 (parameter sets in the sample entry) is what Apple players and the origin's HLS need.
    a.push('-x265-params', p.join(':'), '-tag:v', 'hvc1');
  }
  a.push('-fps_mode', 'cfr');
  return a;
}

function audioCodecArgs(t: AudioEncodeTrack, index: number): string[] {
  const a = [
    `-c:a:${index}`,
    'aac',
    `-b:a:${index}`,
    `${Math.round(t.bitrateBps / 1000)}k`,
    `-ac:a:${index}`,
    String(t.channels),
    `-ar:a:${index}`,
    String(t.sampleRateHz),
  ];
  if (t.language) a.push(`-metadata:s:a:${index}`, `language=${t.language}`);
  return a;
}

function imageOutputArgs(img: ImageOutputPlan, j: number): string[] {
  const count = img.sprite ? 1 : img.names.length;
  const a = ['-map', `[i${j}]`, '-frames:v', String(count), '-fps_mode', 'passthrough'];
  if (img.format === 'jpg') {
    // JPEG quality 0–100 onto mjpeg's qscale 31 (worst) … 2 (best).
    a.push('-c:v', 'mjpeg', '-q:v', String(Math.round(2 + ((100 - img.quality) * 29) / 100)));
  } else {
    a.push('-c:v', 'png');
  }
  a.push('-map_metadata', '-1', '-f', 'image2');
  if (count > 1) a.push('-start_number', '1');
  else a.push('-update', '1');
  return a;
}

/** Seconds as ffmpeg reads them, without float noise (`1.5`, not `1.4999999999`). */
function seconds(s: number): string {
  return String(Math.round(s * 1e6) / 1e6);
}

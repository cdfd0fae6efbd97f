import { isWrapperExecFailure, spawnTool } from '../../ffmpeg-sandbox.js';
import { EncodeError } from '../encode-engine.js';
import { classifyFfmpegFailure, missingToolError } from './ffmpeg-failure.js';
import { snapFrameRate, type FrameRate } from '../presets/frame-rate.js';
import { inputOptions } from './input-options.js';

export interface SourceVideo {
  /** Absolute stream index in the input (for `-map i:N`). */
  streamIndex: number;
  codec: string;
  width: number;
  height: number;
  /** The picture as players show it: sample aspect ratio applied, then rotation (90/270 swap the sides). */
  displayWidth: number;
  displayHeight: number;
  /** Clockwise turn from the stored picture to the displayed one (the display matrix), 0/90/180/270. */
  rotationDeg: number;
  /** Stored pixel shape (`sample_aspect_ratio`), 1 for square pixels; 16/15 for anamorphic PAL 4:3. */
  sampleAspectRatio: number;
  frameRate: FrameRate;
  bitrateBps?: number;
  language?: string;
}

export interface SourceAudio {
  streamIndex: number;
  codec: string;
  channels: number;
  sampleRateHz: number;
  bitrateBps?: number;
  language?: string;
}

/** What the engine needs to know about one input before planning. */
export interface SourceInfo {
  formatName: string;
  durationSec: number;
  bitrateBps?: number;
  sizeBytes?: number;
  /** The main video stream (cover art excluded), if any. */
  video?: SourceVideo;
  videos: SourceVideo[];
  audios: SourceAudio[];
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  bit_rate?: string;
  duration?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_aspect_ratio?: string;
  channels?: number;
  sample_rate?: string;
  disposition?: { attached_pic?: number };
  tags?: { language?: string; rotate?: string; BPS?: string };
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
}
interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
  streams?: FfprobeStream[];
}

const num = (v: string | number | undefined): number | undefined => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Reads an input with ffprobe (over HTTP it seeks with Range requests, so a trailing moov costs two small
 * reads). A file that is not media rejects with ContentMalformed carrying ffprobe's own reason.
 */
export function probeSource(ffprobePath: string, url: string, options: { httpTimeoutSec: number; signal: AbortSignal }): Promise<SourceInfo> {
  return new Promise((resolve, reject) => {
    const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...inputOptions(url, options.httpTimeoutSec), url];
    const child = spawnTool(ffprobePath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    // A stalled server is bounded by rw_timeout; this is the backstop for anything else that hangs.
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(60, options.httpTimeoutSec * 4) * 1000);
    const onAbort = () => child.kill('SIGKILL');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16_000) stderr += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      reject(
        e.code === 'ENOENT' ? missingToolError('ffprobe', ffprobePath) : new EncodeError('ServiceError', `ffprobe could not run: ${e.message}`, { cause: e }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (options.signal.aborted) {
        reject(options.signal.reason);
        return;
      }
      if (code !== 0) {
        reject(
          isWrapperExecFailure(code, stderr)
            ? missingToolError('ffprobe', ffprobePath)
            : signal === 'SIGKILL'
              ? new EncodeError('DownloadTransientError', 'Reading the input timed out (ffprobe did not finish)')
              : classifyFfmpegFailure(stderr, { tool: 'ffprobe', exitCode: code }),
        );
        return;
      }
      let parsed: FfprobeOutput;
      try {
        parsed = JSON.parse(Buffer.concat(out).toString('utf8')) as FfprobeOutput;
      } catch (e) {
        reject(new EncodeError('ContentMalformed', 'The input could not be read as media (ffprobe output unreadable)', { cause: e }));
        return;
      }
      const info = toSourceInfo(parsed);
      if (!info.video && info.audios.length === 0) {
        reject(new EncodeError('ContentMalformed', `The input has no audio or video track (${info.formatName})`));
        return;
      }
      resolve(info);
    });
  });
}

export function toSourceInfo(out: FfprobeOutput): SourceInfo {
  const streams = out.streams ?? [];
  const videos: SourceVideo[] = [];
  const audios: SourceAudio[] = [];
  let longest = 0;
  for (const s of streams) {
    const duration = num(s.duration);
    if (duration !== undefined) longest = Math.max(longest, duration);
    const language = s.tags?.language && s.tags.language !== 'und' ? s.tags.language : undefined;
    const bitrateBps = num(s.bit_rate) ?? num(s.tags?.BPS);
    if (s.codec_type === 'video' && s.width && s.height && !s.disposition?.attached_pic) {
      const rotationDeg = rotationOf(s);
      const [sarW, sarH] = (s.sample_aspect_ratio ?? '1:1').split(':').map(Number);
      const sar = sarW > 0 && sarH > 0 ? sarW / sarH : 1;
      const w = Math.round(s.width * sar);
      const isSideways = rotationDeg === 90 || rotationDeg === 270;
      videos.push({
        streamIndex: s.index,
        codec: s.codec_name ?? 'unknown',
        width: s.width,
        height: s.height,
        displayWidth: isSideways ? s.height : w,
        displayHeight: isSideways ? w : s.height,
        rotationDeg,
        sampleAspectRatio: sar,
        frameRate: snapFrameRate(rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) ?? 25),
        ...(bitrateBps ? { bitrateBps } : {}),
        ...(language ? { language } : {}),
      });
    } else if (s.codec_type === 'audio') {
      audios.push({
        streamIndex: s.index,
        codec: s.codec_name ?? 'unknown',
        channels: s.channels ?? 2,
        sampleRateHz: num(s.sample_rate) ?? 48000,
        ...(bitrateBps ? { bitrateBps } : {}),
        ...(language ? { language } : {}),
      });
    }
  }
  const durationSec = num(out.format?.duration) ?? longest;
  const bitrateBps = num(out.format?.bit_rate);
  const video = videos[0];
  // Containers such as MKV or TS carry no per-stream bitrate: estimate video as total minus audio.
  if (video && video.bitrateBps === undefined && bitrateBps) {
    const audioBps = audios.reduce((sum, a) => sum + (a.bitrateBps ?? 128_000), 0);
    if (bitrateBps > audioBps) video.bitrateBps = bitrateBps - audioBps;
  }
  const sizeBytes = num(out.format?.size);
  return {
    formatName: out.format?.format_name ?? 'unknown',
    durationSec,
    ...(bitrateBps ? { bitrateBps } : {}),
    ...(sizeBytes ? { sizeBytes } : {}),
    ...(video ? { video } : {}),
    videos,
    audios,
  };
}

function rate(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const [a, b] = text.split('/').map(Number);
  return b && a ? a / b : undefined;
}

/**
 * The clockwise turn players apply: ffprobe reports the display matrix angle counter-clockwise, and ffmpeg's
 * autorotate turns by its negation (`rotation: 90` → `transpose=cclock`).
 */
function rotationOf(s: FfprobeStream): number {
  const matrix = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const deg = matrix !== undefined ? -matrix : Number(s.tags?.rotate ?? 0);
  const norm = (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
  return Number.isFinite(norm) ? norm : 0;
}

import { inputRestrictions, isWrapperExecFailure, spawnTool } from '../ffmpeg-sandbox.js';
import { MediaError, UpstreamError } from '../../shared/errors.js';
import type { MediaFileInfo, MediaProber, MediaTrackInfo } from '../../shared/media-probe.js';

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  bit_rate?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  channels?: number;
  sample_rate?: string;
  tags?: { language?: string; BPS?: string };
}
interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: FfprobeStream[];
}

const num = (v: string | undefined): number | undefined => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
};

function frameRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const [a, b] = rate.split('/').map(Number);
  return b ? Math.round((a / b) * 1000) / 1000 || undefined : undefined;
}

const trackTypes: Record<string, MediaTrackInfo['type']> = { video: 'video', audio: 'audio', subtitle: 'text', data: 'data' };

/**
 * ffprobe over HTTP: it seeks with Range requests, so a moov at the end of a large file costs two small reads. The
 * file is a tenant's: ffprobe may use only the protocols of the signed URL and demuxers that follow no reference
 * to other files or URLs (ffmpeg-sandbox.ts), and dies with this process.
 */
export class FfprobeProber implements MediaProber {
  constructor(
    private readonly ffprobePath: string,
    private readonly timeoutMs = 20_000,
  ) {}

  probe(url: string, signal?: AbortSignal): Promise<MediaFileInfo> {
    return new Promise((resolve, reject) => {
      const child = spawnTool(this.ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...inputRestrictions(url), url], {
        stdio: ['ignore', 'pipe', 'pipe'],
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), ...(signal ? [signal] : [])]),
      });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 4000) err += d.toString();
      });
      child.on('error', (e) => reject(new UpstreamError('ProbeFailed', `ffprobe could not run: ${e.message}`, { cause: e, status: 503 })));
      child.on('close', (code) => {
        if (isWrapperExecFailure(code, err)) {
          reject(new UpstreamError('ProbeFailed', `ffprobe could not run: not found at ${this.ffprobePath}`, { status: 503 }));
          return;
        }
        if (code !== 0) {
          // ffprobe prints the URL (with its signature) in errors: keep only its reason.
          const reason =
            err
              .split('\n')
              .map((l) => l.replace(/^.*?: /, ''))
              .find((l) => l.trim()) ?? `exit code ${code}`;
          reject(new MediaError(422, 'UnreadableMedia', `The file could not be read as media: ${reason.trim()}`));
          return;
        }
        try {
          resolve(toInfo(JSON.parse(Buffer.concat(out).toString('utf8')) as FfprobeOutput));
        } catch (e) {
          reject(new MediaError(422, 'UnreadableMedia', 'ffprobe output could not be read', { cause: e }));
        }
      });
    });
  }
}

function toInfo(out: FfprobeOutput): MediaFileInfo {
  const tracks = (out.streams ?? []).map((s): MediaTrackInfo => {
    const t: MediaTrackInfo = { index: s.index, type: trackTypes[s.codec_type ?? ''] ?? 'data', codec: s.codec_name ?? 'unknown' };
    if (s.profile) t.profile = s.profile;
    const bitrate = num(s.bit_rate) ?? num(s.tags?.BPS);
    if (bitrate) t.bitrateBps = bitrate;
    if (s.width) t.width = s.width;
    if (s.height) t.height = s.height;
    if (t.type === 'video') {
      const fr = frameRate(s.avg_frame_rate) ?? frameRate(s.r_frame_rate);
      if (fr) t.frameRate = fr;
    }
    const language = s.tags?.language;
    if (language && language !== 'und') t.language = language;
    const duration = num(s.duration);
    if (duration !== undefined) t.durationSec = duration;
    if (s.channels) t.channels = s.channels;
    const rate = num(s.sample_rate);
    if (rate) t.sampleRateHz = rate;
    return t;
  });
  return { formatName: out.format?.format_name ?? 'unknown', durationSec: num(out.format?.duration), bitrateBps: num(out.format?.bit_rate), tracks };
}

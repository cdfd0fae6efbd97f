import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../../shared/log.js';
import { measureComplexity } from './complexity-probe.js';
import {
  EncodeError,
  type EncodedFile,
  type EncodedTrack,
  type EncodeEngine,
  type EncodeInput,
  type EncodeRequest,
  type EncodeResult,
} from '../encode-engine.js';
import type { EncodePlan } from '../plan/encode-plan.js';
import type { EncodeSpec } from '../plan/encode-spec.js';
import { buildFfmpegArgs } from './ffmpeg-args.js';
import { mostUsefulLine } from './ffmpeg-failure.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { snapFrameRate } from '../presets/frame-rate.js';
import { checkInputAccess } from './input-access.js';
import { redactUrl } from './input-options.js';
import { writeIsm } from '../plan/ism-writer.js';
import { planEncode, resolveClip, type PlanSource } from '../plan/output-planner.js';
import { parsePreset } from '../presets/preset-parser.js';
import { probeSource, type SourceInfo } from './source-prober.js';

export interface FfmpegEncodeEngineOptions {
  ffmpegPath: string;
  ffprobePath: string;
  /** x264 speed preset for `Balanced` complexity (default `veryfast`). */
  x264Preset?: string;
  /** x265 speed preset for `Balanced` complexity (default `fast`). */
  x265Preset?: string;
  /** Read timeout for HTTP inputs (default 30 s): a stalled server fails the job instead of hanging it. */
  httpTimeoutSec?: number;
  /** Largest input accepted (default: no limit). */
  maxInputBytes?: number;
  log?: Logger;
}

/** Content types of the files the engine writes. `.ism` as AMS served Smooth server manifests. */
export const contentTypes: Record<string, string> = {
  '.ism': 'application/vnd.ms-sstr+xml',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.vtt': 'text/vtt',
};

/**
 * Files that may sit in an input asset but are not media (manifests, indexes, metadata, subtitles). When a
 * job names several files (`["*"]`), these are skipped; the job runner expands an `.ism` into its MP4s.
 */
const sideFilePattern = /\.(ism|ismc|mpi|mpd|m3u8|json|xml|vtt|srt|ttml|cmft|txt|jpg|jpeg|png)$/i;

/**
 * The encoding engine on ffmpeg: probes each input with ffprobe, plans every output file from the preset
 * (`planEncode`), runs one ffmpeg process that decodes once and writes every rendition, then writes the
 * `.ism` and sprite indexes. On any failure or abort the work directory is emptied.
 */
export class FfmpegEncodeEngine implements EncodeEngine {
  readonly #ffmpegPath: string;
  readonly #ffprobePath: string;
  readonly #x264Preset: string;
  readonly #x265Preset: string;
  readonly #httpTimeoutSec: number;
  readonly #maxInputBytes: number | undefined;
  readonly #log: Logger | undefined;

  constructor(options: FfmpegEncodeEngineOptions) {
    this.#ffmpegPath = options.ffmpegPath;
    this.#ffprobePath = options.ffprobePath;
    this.#x264Preset = options.x264Preset ?? 'veryfast';
    this.#x265Preset = options.x265Preset ?? 'fast';
    this.#httpTimeoutSec = options.httpTimeoutSec ?? 30;
    this.#maxInputBytes = options.maxInputBytes;
    this.#log = options.log?.child({ component: 'encode' });
  }

  validatePreset(preset: Record<string, unknown>): string[] {
    const parsed = parsePreset(preset);
    if (!parsed.spec) return parsed.problems;
    // Plan against a typical 1080p input to catch patterns that give two files one name.
    try {
      const { renamed } = planEncode(parsed.spec, [exampleSource], { x264Preset: this.#x264Preset, x265Preset: this.#x265Preset });
      return renamed.map((name) => `the filenamePattern gives several outputs the name '${name}': add {Label}, {Bitrate}, {Resolution} or {Index}`);
    } catch (e) {
      return e instanceof EncodeError ? [e.message] : [];
    }
  }

  async run(request: EncodeRequest): Promise<EncodeResult> {
    const { signal, workDir } = request;
    signal.throwIfAborted();
    const parsed = parsePreset(request.preset);
    if (!parsed.spec) throw new EncodeError('ConfigurationUnsupported', `The preset is not supported: ${parsed.problems.join('; ')}`);
    const spec = parsed.spec;
    const startedAt = Date.now();
    try {
      const sources = await this.#probeInputs(request.inputs, signal);
      const complexityFactor = spec.autoLadder?.kind === 'content-aware' ? await this.#complexity(sources, request, spec) : undefined;
      const plan = planEncode(spec, sources, {
        ...(request.clip ? { clip: request.clip } : {}),
        x264Preset: this.#x264Preset,
        x265Preset: this.#x265Preset,
        ...(complexityFactor !== undefined ? { complexityFactor } : {}),
      });
      this.#log?.info({ outputs: plan.mp4.length + plan.images.length, durationSec: plan.durationSec, complexityFactor }, 'encode started');
      const args = buildFfmpegArgs(plan, { workDir, httpTimeoutSec: this.#httpTimeoutSec });
      const { stderr } = await runFfmpeg(this.#ffmpegPath, args, {
        signal,
        durationSec: plan.durationSec,
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      });
      // ffmpeg reads a truncated MP4 whose moov survived to its end and exits 0; the output would be silently short.
      const truncated = mostUsefulLine(
        stderr
          .split('\n')
          .filter((l) => /partial file/i.test(l))
          .join('\n'),
      );
      if (truncated) throw new EncodeError('ContentMalformed', `The input is truncated: ${truncated.line}`);
      const files = await this.#collect(plan, workDir);
      request.onProgress?.(100);
      this.#log?.info({ files: files.length, elapsedMs: Date.now() - startedAt }, 'encode finished');
      return { files, encoded: { durationSec: plan.durationSec, tracks: encodedTracks(plan) } };
    } catch (e) {
      await emptyDir(workDir);
      if (signal.aborted) throw signal.reason;
      this.#log?.info({ err: e instanceof EncodeError ? { code: e.code, message: e.message } : e }, 'encode failed');
      throw e;
    }
  }

  async #probeInputs(inputs: EncodeInput[], signal: AbortSignal): Promise<PlanSource[]> {
    if (inputs.length === 0) throw new EncodeError('ConfigurationUnsupported', 'The job has no input file');
    const media = inputs.length > 1 ? inputs.filter((i) => !sideFilePattern.test(i.fileName)) : inputs;
    if (media.length === 0) throw new EncodeError('ConfigurationUnsupported', `None of the input files is media: ${inputs.map((i) => i.fileName).join(', ')}`);
    const sources: PlanSource[] = [];
    for (const input of media) {
      const sizeBytes = await checkInputAccess(input.url, {
        timeoutSec: this.#httpTimeoutSec,
        signal,
        fileName: input.fileName,
        ...(this.#maxInputBytes !== undefined ? { maxInputBytes: this.#maxInputBytes } : {}),
      });
      signal.throwIfAborted();
      const info = await probeSource(this.#ffprobePath, input.url, { httpTimeoutSec: this.#httpTimeoutSec, signal });
      if (sizeBytes === undefined && info.sizeBytes !== undefined && this.#maxInputBytes !== undefined && info.sizeBytes > this.#maxInputBytes) {
        throw new EncodeError(
          'ContentUnsupported',
          `The input '${input.fileName}' is ${info.sizeBytes} bytes, larger than this server's limit of ${this.#maxInputBytes} bytes`,
        );
      }
      this.#log?.debug({ input: redactUrl(input.url), format: info.formatName, durationSec: info.durationSec }, 'input probed');
      sources.push({ input, info });
    }
    return sources;
  }

  /** The content-aware factor; a probe that fails (odd codec, tiny input) falls back to the reference ladder. */
  async #complexity(sources: PlanSource[], request: EncodeRequest, spec: EncodeSpec): Promise<number | undefined> {
    const withVideo = sources.find((s) => s.info.video);
    if (!withVideo?.info.video || !spec.autoLadder) return undefined;
    const clip = resolveClip(request.clip, withVideo.info.durationSec);
    try {
      return await measureComplexity({
        ffmpegPath: this.#ffmpegPath,
        url: withVideo.input.url,
        streamIndex: withVideo.info.video.streamIndex,
        startSec: clip.input.seekSec ?? 0,
        durationSec: clip.outDurationSec,
        workDir: request.workDir,
        httpTimeoutSec: this.#httpTimeoutSec,
        signal: request.signal,
      });
    } catch (e) {
      if (request.signal.aborted) throw request.signal.reason;
      if (e instanceof EncodeError && e.category !== 'Service') throw e;
      this.#log?.warn({ err: e }, 'complexity probe failed; using the reference ladder');
      return undefined;
    }
  }

  /** Writes the `.ism` and sprite indexes, then lists every file with its size and type. */
  async #collect(plan: EncodePlan, workDir: string): Promise<EncodedFile[]> {
    const files: EncodedFile[] = [];
    const add = async (name: string, contentType: string, isRequired: boolean) => {
      const filePath = path.join(workDir, name);
      const stat = await fs.stat(filePath).catch(() => undefined);
      if (!stat || stat.size === 0) {
        if (isRequired) throw new EncodeError('ContentMalformed', `ffmpeg wrote no data for '${name}': the input has no decodable frames for it`);
        return;
      }
      files.push({ name, path: filePath, size: stat.size, contentType });
    };
    for (const file of plan.mp4) {
      const hasVideo = file.tracks.some((t) => t.kind === 'video-encode' || (t.kind === 'copy' && t.media === 'video'));
      await add(file.name, hasVideo ? 'video/mp4' : 'audio/mp4', true);
    }
    for (const img of plan.images) {
      const type = img.format === 'jpg' ? 'image/jpeg' : 'image/png';
      if (img.sprite) {
        await add(img.sprite.name, type, true);
        await fs.writeFile(path.join(workDir, img.sprite.vttName), img.sprite.vtt);
        await add(img.sprite.vttName, contentTypes['.vtt'], true);
      } else {
        // A series may end early when the input has fewer frames than its duration promised; the first image is required.
        for (const [i, name] of img.names.entries()) await add(name, type, i === 0);
      }
    }
    if (plan.manifest) {
      await fs.writeFile(path.join(workDir, plan.manifest.name), writeIsm(plan.manifest.tracks));
      await add(plan.manifest.name, contentTypes['.ism'], true);
    }
    return files;
  }
}

/** A typical input for validatePreset's dry planning run. */
const exampleSource: PlanSource = {
  input: { url: '/dev/null', fileName: 'input.mp4' },
  info: {
    formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
    durationSec: 60,
    videos: [],
    audios: [{ streamIndex: 1, codec: 'aac', channels: 2, sampleRateHz: 48000, bitrateBps: 128_000 }],
    video: {
      streamIndex: 0,
      codec: 'h264',
      width: 1920,
      height: 1080,
      displayWidth: 1920,
      displayHeight: 1080,
      rotationDeg: 0,
      sampleAspectRatio: 1,
      frameRate: snapFrameRate(25),
      bitrateBps: 8_000_000,
    },
  } satisfies SourceInfo,
};
exampleSource.info.videos.push(exampleSource.info.video as NonNullable<SourceInfo['video']>);

/** Removes everything in the work directory (the engine owns it): partial outputs never reach the asset. */
async function emptyDir(dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => fs.rm(path.join(dir, e), { recursive: true, force: true, maxRetries: 3 })));
}

/** Every MP4 track of the plan as usage metering sees it: video with its size, or audio (images are not metered). */
function encodedTracks(plan: EncodePlan): EncodedTrack[] {
  return plan.mp4.flatMap((file) =>
    file.tracks.map((t): EncodedTrack => {
      if (t.kind === 'video-encode') return { media: 'video', width: t.width, height: t.height };
      if (t.kind === 'audio-encode') return { media: 'audio' };
      return t.media === 'video' ? { media: 'video', ...(t.width ? { width: t.width } : {}), ...(t.height ? { height: t.height } : {}) } : { media: 'audio' };
    }),
  );
}

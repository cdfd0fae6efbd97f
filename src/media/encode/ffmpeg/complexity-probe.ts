import fs from 'node:fs/promises';
import path from 'node:path';
import { referenceKbpsAt360p } from '../presets/adaptive-ladder.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { inputOptions } from './input-options.js';

/**
 * ContentAwareEncoding's complexity estimate: a quick constant-quality (CRF 23, x264 veryfast) encode of
 * up to three 4 s windows of the input at 640×360's pixel count (any shape), 25 fps. The bitrate x264 needs for that quality, over the reference
 * ladder's 360p bitrate, is the factor by which the ladder's bitrates are scaled (static talking heads come
 * out near 0.5, sport and grain above 1). Measuring the content itself beats the source's bits per pixel,
 * which mostly reflects how the source was encoded.
 */
export async function measureComplexity(options: {
  ffmpegPath: string;
  url: string;
  streamIndex: number;
  /** Start and length of the (clipped) input. */
  startSec: number;
  durationSec: number;
  workDir: string;
  httpTimeoutSec: number;
  signal: AbortSignal;
}): Promise<number> {
  const windowSec = 4;
  const starts =
    options.durationSec <= windowSec * 3 ? [options.startSec] : [0.15, 0.5, 0.85].map((f) => options.startSec + f * options.durationSec - windowSec / 2);
  const length = Math.min(windowSec * (starts.length === 1 ? 3 : 1), options.durationSec);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-y'];
  for (const s of starts)
    args.push(...inputOptions(options.url, options.httpTimeoutSec), '-ss', String(Math.max(0, s)), '-t', String(length), '-i', options.url);
  const scaled = starts.map((_, i) => `[${i}:${options.streamIndex}]scale=w='trunc(sqrt(230400*dar)/2)*2':h=-2,setsar=1,fps=25[s${i}]`);
  const graph =
    starts.length === 1
      ? scaled[0].replace('[s0]', '[out]')
      : `${scaled.join(';')};${starts.map((_, i) => `[s${i}]`).join('')}concat=n=${starts.length}:v=1:a=0[out]`;
  const file = path.join(options.workDir, '.complexity-probe.mkv');
  try {
    await runFfmpeg(
      options.ffmpegPath,
      [...args, '-filter_complex', graph, '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-f', 'matroska', file],
      { signal: options.signal },
    );
    const bytes = (await fs.stat(file)).size;
    const encodedSec = Math.max(0.5, length * starts.length);
    const kbps = (bytes * 8) / encodedSec / 1000;
    return kbps / referenceKbpsAt360p('h264');
  } finally {
    await fs.rm(file, { force: true });
  }
}

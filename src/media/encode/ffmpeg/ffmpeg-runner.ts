import { isWrapperExecFailure, spawnTool } from '../../ffmpeg-sandbox.js';
import { EncodeError } from '../encode-engine.js';
import { classifyFfmpegFailure, missingToolError } from './ffmpeg-failure.js';

export interface FfmpegRunOptions {
  signal: AbortSignal;
  /** Length of the output timeline, against which `out_time_us` is a percentage. */
  durationSec?: number;
  /** 0–99 while running (100 is the caller's to report once the outputs are checked). */
  onProgress?: (percent: number) => void;
  /** Least time between two progress reports. */
  progressIntervalMs?: number;
  /** ms between SIGTERM (ffmpeg finishes its files cleanly) and SIGKILL on abort. */
  killGraceMs?: number;
}

export interface FfmpegRunResult {
  /** What ffmpeg wrote to stderr (at `-loglevel error`: only problems), last 64 KiB. */
  stderr: string;
}

const stderrLimit = 64 * 1024;

/**
 * Runs ffmpeg with `-progress pipe:1`. Resolves when it exits 0; rejects with a classified EncodeError
 * otherwise, or with `signal.reason` after an abort (SIGTERM, then SIGKILL after the grace period) once the
 * process is gone, so the caller can delete partial files knowing nothing writes them any more.
 */
export function runFfmpeg(ffmpegPath: string, args: string[], options: FfmpegRunOptions): Promise<FfmpegRunResult> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawnTool(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.killGraceMs ?? 3000);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });

    const progress = progressReporter(options);
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) progress(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > stderrLimit * 2) stderr = stderr.slice(-stderrLimit);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(
        e.code === 'ENOENT' ? missingToolError('ffmpeg', ffmpegPath) : new EncodeError('ServiceError', `ffmpeg could not run: ${e.message}`, { cause: e }),
      );
    });
    child.on('close', (code) => {
      options.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (options.signal.aborted) {
        reject(options.signal.reason);
        return;
      }
      if (code === 0) resolve({ stderr: stderr.slice(-stderrLimit) });
      else if (isWrapperExecFailure(code, stderr)) reject(missingToolError('ffmpeg', ffmpegPath));
      else reject(classifyFfmpegFailure(stderr.slice(-stderrLimit), { tool: 'ffmpeg', exitCode: code }));
    });
  });
}

/** Turns `out_time_us=` lines into percentages: whole numbers, increasing, at most one per interval, below 100. */
function progressReporter(options: FfmpegRunOptions): (line: string) => void {
  let last = -1;
  let lastAt = 0;
  const interval = options.progressIntervalMs ?? 250;
  return (line) => {
    if (!options.onProgress || !options.durationSec || !line.startsWith('out_time_us=')) return;
    const us = Number(line.slice('out_time_us='.length));
    if (!Number.isFinite(us) || us <= 0) return;
    const percent = Math.min(99, Math.floor((us / 1e6 / options.durationSec) * 100));
    const now = Date.now();
    if (percent > last && now - lastAt >= interval) {
      last = percent;
      lastAt = now;
      options.onProgress(percent);
    }
  };
}

import { spawn, spawnSync, type ChildProcessWithoutNullStreams, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

/**
 * What ffmpeg and ffprobe may do with a tenant's file. Both happily follow references inside a file: an HLS
 * playlist or concat list names other files and URLs (`file:///etc/…`, `http://169.254.169.254/…`), an image2
 * pattern opens a series of paths, IMF and DASH manifests open their parts. A file is opened with
 *  - only the protocols its location needs (`file` for a path the storage driver handed us, `http,tcp` for
 *    Reel's own signed URL), so no reference can leave for another protocol or the network;
 *  - only demuxers that read the one file they were given (below), so no playlist, list or manifest is followed
 *    whatever its name says. mov's external data references (`enable_drefs`) are off by default and stay off.
 */
export const demuxerAllowList = [
  // Video containers Reel takes as sources (job-inputs.ts's patterns): MP4/MOV/3GP/ISMV, MKV/WebM, MXF, TS/M2TS,
  // MPEG-PS, AVI, WMV/ASF, FLV, and raw elementary streams.
  'mov',
  'matroska',
  'mxf',
  'mpegts',
  'mpeg',
  'mpegvideo',
  'avi',
  'asf',
  'flv',
  'h264',
  'hevc',
  'm4v',
  // Audio: MP3, ADTS AAC, WAV/W64, AIFF, CAF, FLAC, AC-3/E-AC-3, DTS, TrueHD, Ogg (Vorbis, Opus).
  'mp3',
  'aac',
  'wav',
  'w64',
  'aiff',
  'caf',
  'flac',
  'ac3',
  'eac3',
  'dts',
  'truehd',
  'ogg',
  // Side-loaded text.
  'webvtt',
  'srt',
].join(',');

/** True for inputs read over the network (Reel's signed `/files` URLs); everything else is a local path. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** `-protocol_whitelist` and `-format_whitelist` for one input, placed before its `-i` (or ffprobe's URL). */
export function inputRestrictions(url: string): string[] {
  const protocols = /^https:\/\//i.test(url) ? 'https,tls,tcp' : isHttpUrl(url) ? 'http,tcp' : 'file';
  return ['-protocol_whitelist', protocols, '-format_whitelist', demuxerAllowList];
}

/** ffmpeg's words for a file whose demuxer is not on the allow list (a playlist, concat list, image pattern …). */
export const refusedFormatPattern = /Format not on whitelist|Protocol '[^']*' not on whitelist/i;

let deathSignalWrapper: string | undefined | null = null;

/**
 * `setpriv` when it can set a parent-death signal (util-linux ≥ 2.33, Debian/Ubuntu's default): the kernel then
 * kills the tool as soon as this process dies, however it dies (kill -9 included). Node cannot call prctl itself.
 */
function setprivPath(): string | undefined {
  if (deathSignalWrapper !== null) return deathSignalWrapper;
  const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore', timeout: 5000 });
  deathSignalWrapper = probe.status === 0 ? 'setpriv' : undefined;
  return deathSignalWrapper;
}

/**
 * Spawns ffmpeg/ffprobe so that it cannot outlive this process: through `setpriv --pdeathsig KILL` where available
 * (the pid is then ffmpeg's own after exec, so signals reach it). Where it is not, a restarted worker kills the
 * orphans it finds working in dead attempts' scratch directories (`killToolsNaming`, encode/worker/scratch-dirs.ts).
 */
export function spawnTool(tool: string, args: string[], options: SpawnOptions & { stdio: ['ignore', 'pipe', 'pipe'] }): ChildProcessWithoutNullStreams {
  const wrapper = process.platform === 'linux' ? setprivPath() : undefined;
  const child = wrapper ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', tool, ...args], options) : spawn(tool, args, options);
  return child as unknown as ChildProcessWithoutNullStreams;
}

/** True when the wrapper itself reports that the tool could not be executed (setpriv exits 127 then). */
export function isWrapperExecFailure(code: number | null, stderr: string): boolean {
  return code === 127 && /^setpriv: failed to execute/m.test(stderr);
}

/**
 * Kills ffmpeg/ffprobe processes whose command line names `dir` (a dead attempt's scratch directory): the fallback
 * where no parent-death signal could be set, so an orphan of a killed worker cannot keep running beside the
 * re-delivered attempt. Linux only (reads /proc); returns the pids signalled.
 */
export async function killToolsNaming(dir: string): Promise<number[]> {
  const entries = await fs.promises.readdir('/proc').catch(() => [] as string[]);
  const killed: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.promises.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const [exe, ...args] = cmdline.split('\0');
    if (!/(^|\/)(ffmpeg|ffprobe)$/.test(exe ?? '') || !args.some((a) => a === dir || a.startsWith(`${dir}/`))) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed.push(Number(entry));
    } catch {
      /* already gone, or not ours */
    }
  }
  return killed;
}

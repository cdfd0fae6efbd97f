import { spawn } from 'node:child_process';

/**
 * Runs `ffmpeg -version` (asynchronously: a server in this process may be serving the files ffmpeg reads) and
 * returns its first line; rejects with a message an operator can act on when ffmpeg can't be run.
 */
export function checkFfmpeg(ffmpegPath: string, timeoutMs = 15_000): Promise<string> {
  const advice = `set REEL_FFMPEG_PATH to an ffmpeg binary, install ffmpeg, or run this process without the worker role (REEL_ROLES=api,origin)`;
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(out.split('\n', 1)[0].trim());
    };
    const child = spawn(ffmpegPath, ['-hide_banner', '-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(new Error(`'${ffmpegPath} -version' did not answer within ${timeoutMs} ms: ${advice}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 4096) out += d.toString();
    });
    child.on('error', (err) => done(new Error(`ffmpeg could not be run ('${ffmpegPath}': ${err.message}): ${advice}`)));
    child.on('close', (code) => done(code === 0 ? undefined : new Error(`'${ffmpegPath} -version' exited with ${code}: ${advice}`)));
  });
}

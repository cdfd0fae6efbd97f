// Protected reference streams made without Reel (cached under test/fixtures/.cache/e2e-ref-protected):
// - hls-aes/: ffmpeg's own HLS muxer, MPEG-TS segments encrypted whole with AES-128 (`-hls_key_info_file`; ffmpeg
//   5.1 refuses encrypted fMP4), the key URI being Reel's key delivery path (host-less: the playlist's origin);
// - dash-cenc/: ffmpeg's DASH, encrypted CENC ('cenc') by reference-cenc.ts, ClearKey signalled in the MPD;
// - dash-clear/: the same DASH in the clear (what decryption must give back);
// - hls-cenc/: ffmpeg's HLS fMP4 (a video and an audio playlist), encrypted CENC the same way and signalled
//   `EXT-X-KEY:METHOD=SAMPLE-AES-CTR,KEYFORMAT="identity"` with the key URI at Reel's AES key path: the player
//   fetches the raw key (Shaka: a KEY request) and hands it to ClearKey with the KID of the init segment.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptInit, encryptSegment, kidUuid, protectMpd } from './reference-cenc.js';

export const REFERENCE_SECONDS = 6;
export const REFERENCE_FPS = 25;
/** The "locator" the reference key delivery answers for. */
export const REFERENCE_LOCATOR_ID = '5c0f4e1a-7d2b-4c3e-9f10-2a4b6c8d0e12';
/** Fixed test keys (key id → key), hex. */
export const AES_KEY_ID = Buffer.from('a1a2a3a4b1b2c1c2d1d2e1e2e3e4e5e6', 'hex');
export const AES_KEY = Buffer.from('3f8a1c2e5b7d9f0a4c6e8b1d3f5a7c9e', 'hex');
export const CENC_KEY_ID = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
export const CENC_KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

const cacheDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/.cache/e2e-ref-protected');

const ff = (args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });

/** Makes (once, cached) the protected reference streams; returns their directory. */
export function makeProtectedReference(): string {
  const done = path.join(cacheDir, '.complete-v3');
  if (fs.existsSync(done)) return cacheDir;
  const tmp = `${cacheDir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const sub of ['hls-aes', 'dash-clear', 'dash-cenc', 'hls-cenc']) fs.mkdirSync(path.join(tmp, sub), { recursive: true });
  const clip = path.join(tmp, 'clip.mp4');
  // 640x360 H.264 + AAC, a keyframe every 2 s: the same shape as the clear reference in players.test.ts.
  ff([
    ...['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${REFERENCE_FPS}:duration=${REFERENCE_SECONDS}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${REFERENCE_SECONDS}`],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-pix_fmt', 'yuv420p', '-g', String(2 * REFERENCE_FPS)],
    ...['-keyint_min', String(2 * REFERENCE_FPS), '-sc_threshold', '0', '-b:v', '600k', '-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-shortest', clip],
  ]);
  const copy = ['-i', clip, '-map', '0:v', '-map', '0:a', '-c', 'copy'];

  const keyFile = path.join(tmp, 'aes.key');
  fs.writeFileSync(keyFile, AES_KEY);
  const keyInfo = path.join(tmp, 'aes.keyinfo');
  // URI written into EXT-X-KEY, the key file ffmpeg reads, the IV.
  fs.writeFileSync(keyInfo, `/keydelivery/${REFERENCE_LOCATOR_ID}/aes/${kidUuid(AES_KEY_ID)}\n${keyFile}\n${'0'.repeat(31)}1\n`);
  ff([
    ...copy,
    ...['-bsf:v', 'h264_mp4toannexb', '-f', 'hls', '-hls_segment_type', 'mpegts', '-hls_time', '2', '-hls_playlist_type', 'vod'],
    ...['-hls_key_info_file', keyInfo, '-hls_segment_filename', path.join(tmp, 'hls-aes', 'seg_%03d.ts')],
    ...['-master_pl_name', 'master.m3u8', path.join(tmp, 'hls-aes', 'index.m3u8')],
  ]);
  fs.rmSync(keyFile);
  fs.rmSync(keyInfo);

  ff([
    ...copy,
    ...['-f', 'dash', '-seg_duration', '2', '-use_template', '1', '-use_timeline', '1', '-adaptation_sets', 'id=0,streams=v id=1,streams=a'],
    path.join(tmp, 'dash-clear', 'manifest.mpd'),
  ]);
  const clear = path.join(tmp, 'dash-clear');
  for (const name of fs.readdirSync(clear)) {
    const from = path.join(clear, name);
    const to = path.join(tmp, 'dash-cenc', name);
    // ffmpeg numbers the streams as mapped: 0 is the video, 1 the audio.
    if (name.startsWith('init-')) fs.writeFileSync(to, encryptInit(fs.readFileSync(from), CENC_KEY_ID));
    else if (name.startsWith('chunk-')) fs.writeFileSync(to, encryptSegment(fs.readFileSync(from), CENC_KEY, name.startsWith('chunk-stream0-')));
    else if (name.endsWith('.mpd')) fs.writeFileSync(to, protectMpd(fs.readFileSync(from, 'utf8'), CENC_KEY_ID));
  }
  const codecs = [...fs.readFileSync(path.join(clear, 'manifest.mpd'), 'utf8').matchAll(/codecs="([^"]+)"/g)].map((m) => m[1]).join(',');
  makeCencHls(copy, path.join(tmp, 'hls-cenc'), codecs);

  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.renameSync(tmp, cacheDir);
  fs.writeFileSync(done, '');
  return cacheDir;
}

/** ffmpeg's HLS fMP4 in two playlists (0: video, 1: audio), every init and segment encrypted CENC, and our own master. */
function makeCencHls(copy: string[], dir: string, codecs: string): void {
  ff([
    ...copy,
    ...['-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_fmp4_init_filename', 'init.mp4'],
    ...['-hls_segment_filename', path.join(dir, '%v', 'seg_%03d.m4s'), '-var_stream_map', 'v:0 a:0', path.join(dir, '%v', 'index.m3u8')],
  ]);
  const key = `#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,KEYFORMAT="identity",URI="/keydelivery/${REFERENCE_LOCATOR_ID}/aes/${kidUuid(CENC_KEY_ID)}"`;
  for (const stream of ['0', '1']) {
    const sub = path.join(dir, stream);
    for (const name of fs.readdirSync(sub)) {
      const file = path.join(sub, name);
      if (name.startsWith('init')) fs.writeFileSync(file, encryptInit(fs.readFileSync(file), CENC_KEY_ID));
      else if (name.endsWith('.m4s')) fs.writeFileSync(file, encryptSegment(fs.readFileSync(file), CENC_KEY, stream === '0'));
    }
    const playlist = path.join(sub, 'index.m3u8');
    fs.writeFileSync(playlist, fs.readFileSync(playlist, 'utf8').replace('#EXT-X-MAP:', `${key}\n#EXT-X-MAP:`));
  }
  // ffmpeg's own master lists the audio as a variant of its own and no CODECS: one variant with an audio group.
  fs.writeFileSync(
    path.join(dir, 'master.m3u8'),
    [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,URI="1/index.m3u8"',
      `#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="${codecs}",AUDIO="aud"`,
      '0/index.m3u8',
      '',
    ].join('\n'),
  );
}

/** The reference keys as the reference origin serves them (key id hex → key). */
export function referenceKeys(): Map<string, Buffer> {
  return new Map([
    [AES_KEY_ID.toString('hex'), AES_KEY],
    [CENC_KEY_ID.toString('hex'), CENC_KEY],
  ]);
}

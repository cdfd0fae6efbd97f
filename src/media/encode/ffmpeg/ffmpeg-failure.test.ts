import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFfmpegFailure, redactUrls } from './ffmpeg-failure.js';

describe('classifyFfmpegFailure', () => {
  const cases: Array<[string, string, string]> = [
    [
      '/work/job/in.mp4: Invalid data found when processing input',
      'ContentMalformed',
      'The input could not be read as media: Invalid data found when processing input',
    ],
    [
      '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8a1b2c0] moov atom not found\nhttps://h/files/x.mp4?sig=SECRET: Invalid data found when processing input',
      'ContentMalformed',
      'The input could not be read as media: moov atom not found',
    ],
    [
      'https://h/files/x.mp4?sig=SECRET: Server returned 404 Not Found',
      'DownloadNotAccessible',
      'The input could not be downloaded: Server returned 404 Not Found',
    ],
    [
      '[https @ 0x1] HTTP error 403 Forbidden\nhttps://h/x?se=1&sig=S: Server returned 403 Forbidden (access denied)',
      'DownloadNotAccessible',
      'The input could not be downloaded: HTTP error 403 Forbidden',
    ],
    [
      '[tcp @ 0x2] Connection to tcp://10.0.0.1:443 failed: Connection refused',
      'DownloadTransientError',
      'Reading the input failed: Connection to tcp://10.0.0.1:443 failed: Connection refused',
    ],
    [
      'https://h/x?sig=S: Server returned 503 Service Unavailable',
      'DownloadTransientError',
      'Reading the input failed: Server returned 503 Service Unavailable',
    ],
    [
      'Decoder (codec prores) not found for input stream #0:0',
      'ContentUnsupported',
      'The input uses a format or codec Reel cannot decode: Decoder (codec prores) not found for input stream #0:0',
    ],
    ["Unknown encoder 'libx265'", 'ServiceError', "ffmpeg failed: Unknown encoder 'libx265'"],
    ['something odd happened\nConversion failed!', 'ServiceError', 'ffmpeg failed: something odd happened'],
    ['', 'ServiceError', 'ffmpeg failed: ffmpeg exited with code 1'],
    [
      "[hls @ 0x5605113962c0] Format not on whitelist 'mov,matroska'\n/data/c/movie.mp4: Invalid argument",
      'ContentUnsupported',
      'The input is in a format Reel does not take as a job input (hls): playlists, concat lists, manifests and image sequences refer to other files; submit the media file itself',
    ],
    ["[file @ 0x1] Protocol 'http' not on whitelist 'file'!", 'ContentUnsupported', 'The input refers to another location (http), which Reel does not open'],
  ];
  for (const [stderr, code, message] of cases) {
    it(`${code}: ${message}`, () => {
      const e = classifyFfmpegFailure(stderr, { tool: 'ffmpeg', exitCode: 1 });
      assert.deepEqual([e.code, e.message], [code, message]);
      assert.doesNotMatch(e.message, /SECRET|sig=/);
    });
  }
  it('marks network trouble as retryable and corrupt input as final', () => {
    assert.equal(classifyFfmpegFailure('Connection timed out', { tool: 'ffmpeg', exitCode: 1 }).retry, 'MayRetry');
    assert.equal(classifyFfmpegFailure('moov atom not found', { tool: 'ffmpeg', exitCode: 1 }).retry, 'DoNotRetry');
  });
  it('treats an unexplained ffprobe failure as unreadable content', () => {
    assert.equal(classifyFfmpegFailure('weird', { tool: 'ffprobe', exitCode: 1 }).code, 'ContentMalformed');
  });
});

describe('redactUrls', () => {
  it('removes query strings from every URL', () => {
    assert.equal(redactUrls('open https://a.blob/c/x.mp4?sv=1&sig=abc failed; http://b/y?t=2#f too'), 'open https://a.blob/c/x.mp4 failed; http://b/y too');
  });
});

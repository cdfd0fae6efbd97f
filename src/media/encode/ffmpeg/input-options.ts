import { inputRestrictions, isHttpUrl } from '../../ffmpeg-sandbox.js';

export { isHttpUrl };

/**
 * ffmpeg/ffprobe options placed before `-i` for one input: the protocol and demuxer allow lists (ffmpeg-sandbox.ts)
 * for every input, and over HTTP `rw_timeout` (µs), which fails a stalled read instead of hanging the job, and
 * reconnect, which lets a dropped connection resume with a Range request.
 */
export function inputOptions(url: string, httpTimeoutSec: number): string[] {
  if (!isHttpUrl(url)) return inputRestrictions(url);
  return [
    ...inputRestrictions(url),
    '-rw_timeout',
    String(Math.round(httpTimeoutSec * 1_000_000)),
    '-reconnect',
    '1',
    '-reconnect_on_network_error',
    '1',
    '-reconnect_delay_max',
    '4',
  ];
}

/** A URL with its query string (signatures, SAS tokens) removed, for messages and logs. */
export function redactUrl(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Side-loaded WebVTT for HLS. A player places cues on the media timeline through `X-TIMESTAMP-MAP` (RFC 8216
 * §3.5): MPEG-TS segments start at PTS 900000 (10 s, the TS muxer's `TS_TIMESTAMP_OFFSET_90K`), CMAF at 0, so
 * the map differs per format. DASH and Smooth take the file as it is.
 */
export function webVttWithTimestampMap(text: string, mpegTs90k: number): string {
  const map = `X-TIMESTAMP-MAP=MPEGTS:${mpegTs90k},LOCAL:00:00:00.000`;
  return /^\uFEFF?WEBVTT[^\n]*\n/.test(text) ? text.replace(/^(\uFEFF?WEBVTT[^\n]*\n)/, `$1${map}\n`) : `WEBVTT\n${map}\n\n${text}`;
}

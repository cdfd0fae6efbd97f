/**
 * Side-loaded WebVTT for HLS. A player places cues on the media timeline through `X-TIMESTAMP-MAP` (RFC 8216
 * §3.5): MPEG-TS segments start at PTS 900000 (10 s, the TS muxer's `TS_TIMESTAMP_OFFSET_90K`), CMAF at 0, so
 * the map differs per format. DASH and Smooth take the file as it is.
 */
export function webVttWithTimestampMap(text: string, mpegTs90k: number): string {
  const map = `X-TIMESTAMP-MAP=MPEGTS:${mpegTs90k},LOCAL:00:00:00.000`;
  return /^\uFEFF?WEBVTT[^\n]*\n/.test(text) ? text.replace(/^(\uFEFF?WEBVTT[^\n]*\n)/, `$1${map}\n`) : `WEBVTT\n${map}\n\n${text}`;
}

const timestamp = /(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})/;
const cueTiming = new RegExp(`^(\\s*)(${timestamp.source})(\\s+-->\\s+)(${timestamp.source})(.*)$`);

function toSec(m: RegExpExecArray | RegExpMatchArray, at: number): number {
  return Number(m[at] ?? 0) * 3600 + Number(m[at + 1]) * 60 + Number(m[at + 2]) + Number(m[at + 3]) / 1000;
}

function formatTimestamp(sec: number): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/**
 * Side-loaded WebVTT for a DASH Period that starts at `startSec` of the media (a time-filtered clip): a whole-file
 * text Representation has no `presentationTimeOffset`, so players read its cue times as Period times; they are
 * moved back by the Period's start (cue-internal timestamps too). Cues that end at or before the start are
 * dropped, one running across it starts at 0; headers, NOTE, STYLE and REGION blocks stay as they are.
 */
export function webVttFromSec(text: string, startSec: number): string {
  if (startSec <= 0) return text;
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  const kept: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    const at = lines.findIndex((l) => l.includes('-->'));
    const m = at < 0 ? null : cueTiming.exec(lines[at]);
    if (!m) {
      kept.push(block);
      continue;
    }
    const start = toSec(m, 3) - startSec;
    const end = toSec(m, 9) - startSec;
    if (end <= 0) continue;
    lines[at] = `${m[1]}${formatTimestamp(start)}${m[7]}${formatTimestamp(end)}${m[13]}`;
    for (let i = at + 1; i < lines.length; i++)
      lines[i] = lines[i].replace(
        new RegExp(`<(${timestamp.source})>`, 'g'),
        (_all, _t, h: string | undefined, mi: string, s: string, f: string) =>
          `<${formatTimestamp(Number(h ?? 0) * 3600 + Number(mi) * 60 + Number(s) + Number(f) / 1000 - startSec)}>`,
      );
    kept.push(lines.join('\n'));
  }
  return kept.join('\n\n');
}

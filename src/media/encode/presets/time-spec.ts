/**
 * The time strings MK.IO and AMS presets carry: ISO 8601 durations (`PT2S`, `PT1M30.5S`) for key frame
 * intervals and buffer windows, and the thumbnail positions `start`/`step`/`range` that may also be a frame
 * count (`"30"`) or a share of the input's duration (`"10%"`), plus AMS's `{Best}` macro for `start`.
 */
import { parseIsoDurationSec } from '../../../shared/time.js';

/** A thumbnail position as written in the preset, before the input's duration and frame rate are known. */
export type TimeSpec = { kind: 'seconds'; seconds: number } | { kind: 'percent'; percent: number } | { kind: 'frames'; frames: number } | { kind: 'best' };

/** Parses `PT5S`, `10%`, `30` (frames) or `{Best}` (only where `allowBest`). */
export function parseTimeSpec(text: unknown, options: { allowBest?: boolean } = {}): TimeSpec | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text >= 0 ? { kind: 'frames', frames: text } : undefined;
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (options.allowBest && t.toLowerCase() === '{best}') return { kind: 'best' };
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent) {
    const p = Number(percent[1]);
    return p <= 100 ? { kind: 'percent', percent: p } : undefined;
  }
  if (/^\d+$/.test(t)) return { kind: 'frames', frames: Number(t) };
  const seconds = parseIsoDurationSec(t);
  return seconds === undefined ? undefined : { kind: 'seconds', seconds };
}

/**
 * Seconds for a position or length: a frame count N means N frame durations (AMS: "10 to start at the 10th
 * frame", counted from frame 0), a percentage is a share of the (clipped) input duration.
 */
export function timeSpecToSec(spec: Exclude<TimeSpec, { kind: 'best' }>, media: { durationSec: number; frameRate: number }): number {
  switch (spec.kind) {
    case 'seconds':
      return spec.seconds;
    case 'percent':
      return (media.durationSec * spec.percent) / 100;
    case 'frames':
      return spec.frames / media.frameRate;
  }
}

/** `12.5` → `PT12.5S`, for messages. */
export function formatSec(seconds: number): string {
  return `${Math.round(seconds * 1000) / 1000}s`;
}

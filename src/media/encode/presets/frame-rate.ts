/** A frame rate as ffmpeg filters take it (`30000/1001`) and as a number for arithmetic. */
export interface FrameRate {
  text: string;
  value: number;
}

const standardRates: FrameRate[] = [
  { text: '24000/1001', value: 24000 / 1001 },
  { text: '24', value: 24 },
  { text: '25', value: 25 },
  { text: '30000/1001', value: 30000 / 1001 },
  { text: '30', value: 30 },
  { text: '48', value: 48 },
  { text: '50', value: 50 },
  { text: '60000/1001', value: 60000 / 1001 },
  { text: '60', value: 60 },
];

/**
 * The output rate for a probed rate (`avg_frame_rate` such as `10385000/346453` from a phone): snapped to the
 * broadcast rate within 0.5 % so timestamps stay exact, otherwise rounded to 1/1000 fps.
 */
export function snapFrameRate(value: number): FrameRate {
  if (!Number.isFinite(value) || value <= 0) return { text: '25', value: 25 };
  const near = standardRates.reduce((best, r) => (Math.abs(r.value - value) < Math.abs(best.value - value) ? r : best));
  if (Math.abs(near.value - value) / near.value < 0.005) return near;
  const rounded = Math.round(value * 1000) / 1000;
  return { text: String(rounded), value: rounded };
}

/** Halves a rate until it is at most `max` (59.94 → 29.97, 50 → 25), keeping the cadence smooth. */
export function capFrameRate(rate: FrameRate, max: number): FrameRate {
  let r = rate;
  while (r.value > max + 0.01) r = snapFrameRate(r.value / 2);
  return r;
}

/** `30000/1001` or `25` → number (NaN when malformed). */
export function frameRateValue(text: string): number {
  const [a, b] = text.split('/').map(Number);
  return b === undefined ? a : a / b;
}

/** AMS `frameRate`: `30000/1001`, `29.97` or `30` → an ffmpeg rational, or undefined when malformed. */
export function parseFrameRate(text: string): string | undefined {
  const t = text.trim();
  const ratio = /^(\d+)\/(\d+)$/.exec(t);
  if (ratio) return Number(ratio[2]) > 0 && Number(ratio[1]) > 0 && Number(ratio[1]) / Number(ratio[2]) <= 120 ? `${ratio[1]}/${ratio[2]}` : undefined;
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0 || Number(t) > 120) return undefined;
  // 29.97 and friends mean the NTSC 1000/1001 rates, as every encoder reads them.
  for (const base of [24, 30, 48, 60, 120]) if (Math.abs(Number(t) - (base * 1000) / 1001) < 0.01) return `${base * 1000}/1001`;
  return t;
}

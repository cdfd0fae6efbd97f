/**
 * Reel's usage meters as MK.IO's usage reports name them (docs/MKIO-DIFFERENCES.md, "Usage reports"), and the
 * resolution classes encoding is metered by. Shared by the worker (which records a job's classes) and the
 * control plane (which reports them).
 */

/** Encoding resolution classes, as AMS and MK.IO price them. */
export type ResolutionClass = 'SD' | 'HD' | 'UHD' | 'Audio';
export const resolutionClasses: readonly ResolutionClass[] = ['SD', 'HD', 'UHD', 'Audio'];

/**
 * The class of a video track from its picture size: its shorter side below 720 is SD, up to 1080 HD, above
 * UHD. The shorter side, so a portrait 1080×1920 output is HD like its landscape twin; without a width the
 * height alone decides.
 */
export function resolutionClassOf(width: number | undefined, height: number): Exclude<ResolutionClass, 'Audio'> {
  const side = width !== undefined && width > 0 ? Math.min(width, height) : height;
  if (side < 720) return 'SD';
  if (side <= 1080) return 'HD';
  return 'UHD';
}

/**
 * Output seconds of one job per class: every video track counts the output's duration in its class (a ladder of
 * three renditions counts three times); audio tracks count in `Audio` only when the job wrote no video track
 * (audio that goes with video is not metered separately). Images (thumbnails) are not metered.
 */
export function encodedSecondsByClass(encoded: {
  durationSec: number;
  tracks: ReadonlyArray<{ media: 'video' | 'audio'; width?: number; height?: number }>;
}): Partial<Record<ResolutionClass, number>> {
  const out: Partial<Record<ResolutionClass, number>> = {};
  const duration = Math.max(0, encoded.durationSec);
  const video = encoded.tracks.filter((t) => t.media === 'video');
  if (video.length > 0) {
    for (const t of video) {
      const cls = t.height !== undefined && t.height > 0 ? resolutionClassOf(t.width, t.height) : 'SD';
      out[cls] = (out[cls] ?? 0) + duration;
    }
  } else {
    const audio = encoded.tracks.length;
    if (audio > 0) out.Audio = duration * audio;
  }
  return out;
}

/** A meter of the usage reports: MK.IO's row fields (`meterName`, `unit`, `solution`, `family`). */
export interface UsageMeter {
  meterName: string;
  unit: 'minutes' | 'gigabytes';
  solution: string;
  family: string;
}

export const encodingMeters: Record<ResolutionClass, UsageMeter> = {
  SD: { meterName: 'video_encoding_ondemand_sd', unit: 'minutes', solution: 'Encoding', family: 'Video On Demand' },
  HD: { meterName: 'video_encoding_ondemand_hd', unit: 'minutes', solution: 'Encoding', family: 'Video On Demand' },
  UHD: { meterName: 'video_encoding_ondemand_uhd', unit: 'minutes', solution: 'Encoding', family: 'Video On Demand' },
  Audio: { meterName: 'audio_encoding_ondemand', unit: 'minutes', solution: 'Encoding', family: 'Video On Demand' },
};
export const streamingMeter: UsageMeter = { meterName: 'streaming_egress', unit: 'gigabytes', solution: 'Streaming', family: 'Video On Demand' };
export const storageMeter: UsageMeter = { meterName: 'storage', unit: 'gigabytes', solution: 'Storage', family: 'Video On Demand' };

/** Every meter name, in report order. */
export const allMeterNames: readonly string[] = [
  ...resolutionClasses.map((c) => encodingMeters[c].meterName),
  streamingMeter.meterName,
  storageMeter.meterName,
];

/** Decimal gigabytes (10^9 bytes), unrounded: a report's quantity times 10^9 gives the bytes back. */
export const bytesToGigabytes = (bytes: number): number => bytes / 1e9;

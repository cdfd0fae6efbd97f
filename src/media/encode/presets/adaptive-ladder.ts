import type { LadderConfiguration, VideoCodec } from '../plan/encode-spec.js';

/** A ladder rung as a landscape box; the planner turns it to the input's orientation and shape. */
export interface LadderRung {
  width: number;
  height: number;
  kbps: number;
}

/**
 * Reel's reference ladders for AdaptiveStreaming/ContentAwareEncoding (AMS published none). H.264 stops at
 * 1080p as AMS's did; H.265 goes to 2160p at MK.IO's H265SingleBitrate4K rate.
 */
const referenceLadders: Record<VideoCodec, LadderRung[]> = {
  h264: [
    { width: 1920, height: 1080, kbps: 5000 },
    { width: 1280, height: 720, kbps: 3000 },
    { width: 960, height: 540, kbps: 1800 },
    { width: 640, height: 360, kbps: 900 },
    { width: 480, height: 270, kbps: 550 },
    { width: 320, height: 180, kbps: 300 },
  ],
  h265: [
    { width: 3840, height: 2160, kbps: 9500 },
    { width: 2560, height: 1440, kbps: 6000 },
    { width: 1920, height: 1080, kbps: 3500 },
    { width: 1280, height: 720, kbps: 1800 },
    { width: 960, height: 540, kbps: 1100 },
    { width: 640, height: 360, kbps: 550 },
    { width: 480, height: 270, kbps: 350 },
    { width: 320, height: 180, kbps: 200 },
  ],
};

/** The reference bitrate at 360p, which the content-aware probe's CRF result is compared with. */
export function referenceKbpsAt360p(codec: VideoCodec): number {
  return (referenceLadders[codec].find((r) => r.height === 360) as LadderRung).kbps;
}

const minimumKbps = 100;

/**
 * The ladder for an input: every reference rung whose short side fits in the picture's (never upscaling;
 * a picture smaller than every rung gets one rung at its own size), with bitrates scaled by
 * - AdaptiveStreaming: the input's own video bitrate, so a low-bitrate input does not get a top rung that
 *   spends bits the source never had (factor = source / top rung, clamped to 0.4–1);
 * - ContentAwareEncoding: the complexity factor (CRF-23 bitrate of a 360p probe encode over the reference
 *   360p bitrate, clamped to 0.4–1.6), so simple content gets fewer bits and busy content more.
 * AMS `PresetConfigurations` (min/max height, bitrate and layer count) then trim the result.
 */
export function buildAutoLadder(options: {
  kind: 'adaptive' | 'content-aware';
  codec: VideoCodec;
  picture: { width: number; height: number };
  sourceVideoBitrateBps?: number;
  complexityFactor?: number;
  configuration?: LadderConfiguration;
}): LadderRung[] {
  const { picture, configuration: c = {} } = options;
  const pictureShort = Math.min(picture.width, picture.height);
  let rungs = referenceLadders[options.codec].filter((r) => r.height <= pictureShort);
  if (rungs.length === 0) {
    const smallest = referenceLadders[options.codec].at(-1) as LadderRung;
    const scale = (picture.width * picture.height) / (smallest.width * smallest.height);
    rungs = [{ width: Math.max(picture.width, picture.height), height: pictureShort, kbps: Math.max(minimumKbps, Math.round(smallest.kbps * scale)) }];
  }
  let factor = 1;
  if (options.kind === 'adaptive' && options.sourceVideoBitrateBps) {
    factor = clamp(options.sourceVideoBitrateBps / (rungs[0].kbps * 1000), 0.4, 1);
  } else if (options.kind === 'content-aware' && options.complexityFactor !== undefined) {
    factor = clamp(options.complexityFactor, 0.4, 1.6);
  }
  let out = rungs.map((r) => ({ ...r, kbps: Math.max(minimumKbps, Math.round((r.kbps * factor) / 10) * 10) }));
  if (c.maxHeight !== undefined) out = out.filter((r) => r.height <= (c.maxHeight as number));
  if (c.minHeight !== undefined) out = out.filter((r) => r.height >= (c.minHeight as number));
  if (c.maxBitrateBps !== undefined) out = out.map((r) => ({ ...r, kbps: Math.min(r.kbps, Math.floor((c.maxBitrateBps as number) / 1000)) }));
  if (c.minBitrateBps !== undefined) out = out.map((r) => ({ ...r, kbps: Math.max(r.kbps, Math.ceil((c.minBitrateBps as number) / 1000)) }));
  if (c.maxLayers !== undefined) out = out.slice(0, c.maxLayers);
  // Height limits may exclude every rung: keep the one nearest to the asked range rather than fail the job.
  if (out.length === 0)
    out = [
      rungs.reduce((best, r) =>
        Math.abs(r.height - (c.maxHeight ?? c.minHeight ?? r.height)) < Math.abs(best.height - (c.maxHeight ?? c.minHeight ?? best.height)) ? r : best,
      ),
    ];
  // Bitrate clamps can make rungs identical; one of each is enough.
  return out.filter((r, i) => out.findIndex((o) => o.height === r.height && o.kbps === r.kbps) === i);
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

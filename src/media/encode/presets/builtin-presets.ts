import { defaultFilters, type EncodeSpec, type LadderConfiguration, type VideoCodec, type VideoLayerSpec } from '../plan/encode-spec.js';
import type { FieldReader } from './field-reader.js';

export const builtInEncoderType = '#Microsoft.Media.BuiltInStandardEncoderPreset';

interface Rung {
  width: number;
  height: number;
  kbps: number;
}

const ladder720p: Rung[] = [
  { width: 320, height: 180, kbps: 400 },
  { width: 640, height: 360, kbps: 600 },
  { width: 640, height: 360, kbps: 1000 },
  { width: 960, height: 540, kbps: 1500 },
  { width: 960, height: 540, kbps: 2250 },
  { width: 1280, height: 720, kbps: 3400 },
];
const ladderSD: Rung[] = [
  { width: 432, height: 240, kbps: 400 },
  { width: 640, height: 360, kbps: 650 },
  { width: 848, height: 480, kbps: 900 },
  { width: 848, height: 480, kbps: 1300 },
  { width: 848, height: 480, kbps: 1900 },
];
const ladder1080p: Rung[] = [...ladder720p, { width: 1920, height: 1080, kbps: 4700 }, { width: 1920, height: 1080, kbps: 6000 }];

interface BuiltIn {
  codec?: VideoCodec;
  rungs?: Rung[];
  /** Capped CRF: constant quality with the rung's bitrate as the VBV peak (MK.IO's "CVQ" variants). */
  isCappedCrf?: boolean;
  autoLadder?: 'adaptive' | 'content-aware';
  audioKbps?: number;
  maxFrameRate?: number;
}

/**
 * MK.IO's published ladders (MKIO-API §9.1) plus the AMS names Reel also serves. Audio is stereo AAC-LC at
 * 128 kbps (MK.IO says HE-AAC; Debian's ffmpeg has no HE-AAC encoder, and LC plays everywhere HE-AAC does).
 */
const builtIns: Record<string, BuiltIn> = {
  H264SingleBitrateSD: { codec: 'h264', rungs: [{ width: 848, height: 480, kbps: 2200 }] },
  H264SingleBitrate720p: { codec: 'h264', rungs: [{ width: 1280, height: 720, kbps: 4500 }] },
  H264SingleBitrate1080p: { codec: 'h264', rungs: [{ width: 1920, height: 1080, kbps: 6750 }] },
  H264MultipleBitrateSD: { codec: 'h264', rungs: ladderSD },
  H264MultipleBitrate720p: { codec: 'h264', rungs: ladder720p },
  H264MultipleBitrate1080p: { codec: 'h264', rungs: ladder1080p },
  H264MultipleBitrateSDWithCVQ: { codec: 'h264', rungs: ladderSD, isCappedCrf: true },
  H264MultipleBitrate720pWithCVQ: { codec: 'h264', rungs: ladder720p, isCappedCrf: true },
  H264MultipleBitrate1080pWithCVQ: { codec: 'h264', rungs: ladder1080p, isCappedCrf: true },
  // Only the .NET SDK names it and its ladder is unpublished: the 1080p ladder keeping up to 60 fps for motion.
  H264MultipleBitrateSport1080p: { codec: 'h264', rungs: ladder1080p, maxFrameRate: 60 },
  H265SingleBitrate720p: { codec: 'h265', rungs: [{ width: 1280, height: 720, kbps: 1800 }] },
  H265SingleBitrate1080p: { codec: 'h265', rungs: [{ width: 1920, height: 1080, kbps: 3500 }] },
  H265SingleBitrate4K: { codec: 'h265', rungs: [{ width: 3840, height: 2160, kbps: 9500 }] },
  AACGoodQualityAudio: { audioKbps: 192 },
  AdaptiveStreaming: { codec: 'h264', autoLadder: 'adaptive' },
  ContentAwareEncoding: { codec: 'h264', autoLadder: 'content-aware' },
  H265AdaptiveStreaming: { codec: 'h265', autoLadder: 'adaptive' },
  H265ContentAwareEncoding: { codec: 'h265', autoLadder: 'content-aware' },
};

export const builtInPresetNames = Object.keys(builtIns);

export function parseBuiltInEncoderPreset(
  preset: Record<string, unknown>,
  r: FieldReader,
  convertName: (name: string) => EncodeSpec | undefined,
): EncodeSpec | undefined {
  const path = 'preset';
  r.onlyKnown(preset, path, ['presetName', 'configurations', 'advancedSettingsName']);
  const name = r.string(preset, 'presetName', path, { required: true });
  if (preset.advancedSettingsName !== undefined) r.problem('preset.advancedSettingsName (a MediaKind encoder extension) is not supported by Reel');
  if (name === undefined) return undefined;
  // AMS listed CopyAllBitrateNonInterleaved among the encoder's named presets too.
  const asConverter = convertName(name);
  if (asConverter) return asConverter;
  const key = builtInPresetNames.find((n) => n.toLowerCase() === name.toLowerCase());
  if (!key) {
    r.problem(`BuiltInStandardEncoderPreset '${name}' is not supported by Reel (supported: ${builtInPresetNames.join(', ')})`);
    return undefined;
  }
  const def = builtIns[key];
  const ladderConfiguration = parseConfigurations(preset, r, def);
  const keyFrameIntervalSec = ladderConfiguration?.keyFrameIntervalSec ?? 2;
  const video = (def.rungs ?? []).map((rung): VideoLayerSpec => ({
    codec: def.codec ?? 'h264',
    width: { px: rung.width },
    height: { px: rung.height },
    bitrateBps: rung.kbps * 1000,
    rateControl: def.isCappedCrf ? 'capped-crf' : 'abr',
    keyFrameIntervalSec,
    isSceneChangeDetection: false,
    complexity: 'Balanced',
    stretchMode: 'AutoSize',
  }));
  return {
    video,
    ...(def.autoLadder && def.codec
      ? { autoLadder: { kind: def.autoLadder, codec: def.codec, ...(ladderConfiguration ? { configuration: ladderConfiguration } : {}) } }
      : {}),
    isNoUpscale: true,
    maxFrameRate: def.maxFrameRate ?? 30,
    audio: [{ channels: 2, sampleRateHz: 48000, bitrateBps: (def.audioKbps ?? 128) * 1000 }],
    images: [],
    filters: defaultFilters(),
    mp4Naming: { kind: 'builtin' },
  };
}

function parseConfigurations(preset: Record<string, unknown>, r: FieldReader, def: BuiltIn): LadderConfiguration | undefined {
  const path = 'preset.configurations';
  const c = r.object(preset, 'configurations', 'preset');
  if (!c) return undefined;
  if (def.autoLadder !== 'content-aware') {
    r.problem(`${path} is only supported with ContentAwareEncoding and H265ContentAwareEncoding (as in AMS)`);
    return undefined;
  }
  r.onlyKnown(c, path, [
    'complexity',
    'interleaveOutput',
    'keyFrameIntervalInSeconds',
    'maxBitrateBps',
    'maxHeight',
    'maxLayers',
    'minBitrateBps',
    'minHeight',
  ]);
  const interleave = r.enumValue(c, 'interleaveOutput', path, ['NonInterleavedOutput', 'InterleavedOutput'] as const);
  if (interleave === 'InterleavedOutput')
    r.problem(`${path}.interleaveOutput InterleavedOutput is not supported by Reel: renditions are written as separate video and audio MP4s`);
  const out: LadderConfiguration = {};
  const complexity = r.enumValue(c, 'complexity', path, ['Speed', 'Balanced', 'Quality'] as const);
  if (complexity) out.complexity = complexity;
  const kfi = r.number(c, 'keyFrameIntervalInSeconds', path, { min: 0.5, max: 20 });
  if (kfi !== undefined) out.keyFrameIntervalSec = kfi;
  const maxBitrateBps = r.integer(c, 'maxBitrateBps', path, { min: 1, unit: 'bits per second' });
  if (maxBitrateBps !== undefined) out.maxBitrateBps = maxBitrateBps;
  const minBitrateBps = r.integer(c, 'minBitrateBps', path, { min: 1, unit: 'bits per second' });
  if (minBitrateBps !== undefined) out.minBitrateBps = minBitrateBps;
  const maxHeight = r.integer(c, 'maxHeight', path, { min: 2, max: 4320 });
  if (maxHeight !== undefined) out.maxHeight = maxHeight;
  const minHeight = r.integer(c, 'minHeight', path, { min: 2, max: 4320 });
  if (minHeight !== undefined) out.minHeight = minHeight;
  const maxLayers = r.integer(c, 'maxLayers', path, { min: 1, max: 12 });
  if (maxLayers !== undefined) out.maxLayers = maxLayers;
  if (out.minHeight !== undefined && out.maxHeight !== undefined && out.minHeight > out.maxHeight) r.problem(`${path}.minHeight must not exceed maxHeight`);
  if (out.minBitrateBps !== undefined && out.maxBitrateBps !== undefined && out.minBitrateBps > out.maxBitrateBps)
    r.problem(`${path}.minBitrateBps must not exceed maxBitrateBps`);
  return out;
}

import type { TimeSpec } from '../presets/time-spec.js';

/**
 * What a preset asks for, normalised from any of the supported preset shapes and independent of the input.
 * `parsePreset` fills it (and reports problems); `planEncode` turns it into concrete files for one input.
 */
export interface EncodeSpec {
  /** Explicit video layers (built-in fixed ladders, StandardEncoderPreset layers). */
  video: VideoLayerSpec[];
  /** A ladder chosen from the input itself (AdaptiveStreaming, ContentAwareEncoding and their H.265 forms). */
  autoLadder?: { kind: 'adaptive' | 'content-aware'; codec: VideoCodec; configuration?: LadderConfiguration };
  /** Built-in ladders never upscale: rungs taller than the input are dropped (see `planEncode`). */
  isNoUpscale: boolean;
  /** Built-in ladders were published at 30 fps: faster inputs are halved (50 → 25, 59.94 → 29.97). */
  maxFrameRate?: number;
  audio: AudioSpec[];
  images: ImageSpec[];
  /** StandardEncoderPreset `CopyVideo`/`CopyAudio`: the input's stream without re-encoding. */
  copyVideo?: { label?: string };
  copyAudio?: { label?: string };
  /** BuiltInAssetConverterPreset: every input remuxed (`-c copy`), no filters. */
  convert?: ConverterMode;
  filters: FilterSpec;
  mp4Naming: Mp4Naming;
}

export type VideoCodec = 'h264' | 'h265';

/** AMS `PresetConfigurations`, which AMS accepted only with the content-aware names. */
export interface LadderConfiguration {
  complexity?: 'Speed' | 'Balanced' | 'Quality';
  keyFrameIntervalSec?: number;
  maxBitrateBps?: number;
  minBitrateBps?: number;
  maxHeight?: number;
  minHeight?: number;
  maxLayers?: number;
}
export type ConverterMode = 'CopyTopBitrateInterleaved' | 'CopyAllBitrateInterleaved' | 'CopyAllBitrateNonInterleaved';

/** A width or height as presets write it: pixels, or a percentage of the (cropped, rotated) input. */
export type Dimension = { px: number } | { percent: number };

/** AMS StretchMode: AutoSize fits the layer inside the box keeping the input's shape, AutoFit pads to the box, None stretches. */
export type StretchMode = 'AutoSize' | 'AutoFit' | 'None';

export type RateControl = 'abr' | 'cbr' | 'crf' | 'capped-crf';

export interface VideoLayerSpec {
  codec: VideoCodec;
  width?: Dimension;
  height?: Dimension;
  /** Target average bitrate; also `{Bitrate}` in names and `systemBitrate` in the `.ism`. */
  bitrateBps: number;
  /** VBV peak; AMS default is the bitrate itself. */
  maxBitrateBps?: number;
  /** VBV buffer length at the peak rate; AMS default 5 s. */
  bufferWindowSec?: number;
  rateControl: RateControl;
  crf?: number;
  /** ffmpeg profile name (`high`, `main10`), undefined = encoder's choice (AMS `Auto`). */
  profile?: string;
  level?: string;
  bFrames?: number;
  referenceFrames?: number;
  slices?: number;
  adaptiveBFrame?: boolean;
  entropyMode?: 'cabac' | 'cavlc';
  /** Output frame rate as an ffmpeg rational (`30000/1001`); undefined = the input's. */
  frameRate?: string;
  keyFrameIntervalSec: number;
  /** Extra key frames at scene cuts: only for a single layer, since they would misalign the GOPs of a ladder. */
  isSceneChangeDetection: boolean;
  /** `Speed` / `Balanced` / `Quality`: one x264/x265 preset step faster / the configured one / one step slower. */
  complexity: 'Speed' | 'Balanced' | 'Quality';
  stretchMode: StretchMode;
  label?: string;
}

export interface AudioSpec {
  channels: number;
  sampleRateHz: number;
  bitrateBps: number;
  label?: string;
}

export interface ImageLayerSpec {
  width?: Dimension;
  height?: Dimension;
  /** JPEG quality 0–100 (AMS and MK.IO default 70). */
  quality: number;
  label?: string;
}

export interface ImageSpec {
  format: 'jpg' | 'png';
  start: TimeSpec;
  step: TimeSpec;
  range: TimeSpec;
  /** MK.IO ThumbnailGenerator `range` as a plain number: how many images (MKIO-API §9.2 "how many/how long"). */
  rangeCount?: number;
  layers: ImageLayerSpec[];
  stretchMode: StretchMode;
  /** When set, the images of each layer are tiled into one sprite with a WebVTT index. */
  spriteColumns?: number;
  /** The codec label (AMS `JpgImage.label`). */
  label?: string;
  naming: ImageNaming;
}

/**
 * How image files are named: an AMS `filenamePattern` ({Index} is six digits, `000001`, as AMS wrote), or
 * MK.IO's `{baseFilename}_{label}{index}{ext}` ({index} from 1, unpadded).
 */
export type ImageNaming = { kind: 'pattern'; pattern: string } | { kind: 'thumbnail-generator'; baseFilename?: string };

/**
 * How MP4 files are named: `builtin` gives `{Basename}_{width}x{height}_{kbps}.mp4` and
 * `{Basename}_AACAudio_{kbps}.mp4`; `pattern` is an AMS Mp4Format, optionally with `outputFiles` (label lists
 * muxed together into one file).
 */
export type Mp4Naming = { kind: 'builtin' } | { kind: 'pattern'; pattern: string; outputFiles?: string[][] };

export interface FilterSpec {
  /** Rectangle in the displayed (rotated) picture. */
  crop?: { left: Dimension; top: Dimension; width: Dimension; height: Dimension };
  /** AMS default: deinterlace frames flagged interlaced (AutoPixelAdaptive, parity Auto). */
  deinterlace: { isEnabled: boolean; parity: 'auto' | 'tff' | 'bff' };
  rotation: 'Auto' | 'None' | 'Rotate0' | 'Rotate90' | 'Rotate180' | 'Rotate270';
}

export const defaultFilters = (): FilterSpec => ({ deinterlace: { isEnabled: true, parity: 'auto' }, rotation: 'Auto' });

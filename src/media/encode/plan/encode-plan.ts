import type { RateControl, VideoCodec } from './encode-spec.js';
import type { FrameRate } from '../presets/frame-rate.js';
import type { IsmTrack } from './ism-writer.js';

/**
 * Everything one ffmpeg run does, decided before it starts: concrete sizes, bitrates, file names and image
 * times. Built by `planEncode` from a spec and the probed inputs; turned into arguments by `buildFfmpegArgs`.
 */
export interface EncodePlan {
  /** ffmpeg inputs in `-i` order; clip times become input seeking (`-ss`/`-t`). */
  inputs: PlannedInput[];
  /** The decoded picture every rung and image is cut from (absent for audio-only and remux plans). */
  picture?: PicturePlan;
  /** The audio stream AAC renditions are encoded from. */
  audioSource?: { inputIndex: number; streamIndex: number };
  mp4: Mp4OutputPlan[];
  images: ImageOutputPlan[];
  /** The `.ism` naming every MP4 track (absent when no MP4 is written). */
  manifest?: { name: string; tracks: IsmTrack[] };
  /** Length of the output timeline in seconds (the clip), for progress. */
  durationSec: number;
}

export interface PlannedInput {
  url: string;
  seekSec?: number;
  durationSec?: number;
  /** AMS rotation None: keep the stored orientation and the display matrix (every other mode lets ffmpeg turn the picture upright). */
  isNoAutorotate?: boolean;
}

export interface PicturePlan {
  inputIndex: number;
  streamIndex: number;
  deinterlace?: { parity: 'auto' | 'tff' | 'bff' };
  /** ffmpeg filter applying an explicit AMS rotation (`transpose=clock`…). */
  rotateFilter?: string;
  /** Non-square stored pixels (anamorphic DV/PAL) are resampled to square ones before crop and scale. */
  isAnamorphic?: boolean;
  crop?: { x: number; y: number; width: number; height: number };
  /** The picture after rotation and crop, which layer sizes and percentages refer to. */
  width: number;
  height: number;
  /** Constant output frame rate of the shared branch (CFR keeps the rungs' GOPs aligned). */
  frameRate: FrameRate;
}

export interface VideoEncodeTrack {
  kind: 'video-encode';
  codec: VideoCodec;
  width: number;
  height: number;
  /** AMS AutoFit: the picture is fitted inside width×height and padded to it. */
  fit: 'scale' | 'pad';
  /** Size of the scaled picture before padding (equals width×height without padding). */
  scaledWidth: number;
  scaledHeight: number;
  bitrateBps: number;
  maxBitrateBps?: number;
  bufferSizeBits?: number;
  rateControl: RateControl;
  crf?: number;
  profile?: string;
  level?: string;
  pixelFormat: string;
  bFrames?: number;
  referenceFrames?: number;
  slices?: number;
  adaptiveBFrame?: boolean;
  entropyMode?: 'cabac' | 'cavlc';
  /** Per-layer rate when it differs from the shared picture's. */
  frameRate?: FrameRate;
  keyFrameIntervalSec: number;
  gopFrames: number;
  isSceneChangeDetection: boolean;
  speedPreset: string;
  label?: string;
}

export interface AudioEncodeTrack {
  kind: 'audio-encode';
  channels: number;
  sampleRateHz: number;
  bitrateBps: number;
  language?: string;
  label?: string;
}

export interface CopyTrack {
  kind: 'copy';
  media: 'video' | 'audio';
  inputIndex: number;
  streamIndex: number;
  bitrateBps: number;
  codec: string;
  width?: number;
  height?: number;
  channels?: number;
  language?: string;
  label?: string;
}

export type Mp4Track = VideoEncodeTrack | AudioEncodeTrack | CopyTrack;

export interface Mp4OutputPlan {
  name: string;
  /** In MP4 track order: track_ID is the position + 1. */
  tracks: Mp4Track[];
}

export interface ImageOutputPlan {
  format: 'jpg' | 'png';
  width: number;
  height: number;
  fit: 'scale' | 'pad';
  scaledWidth: number;
  scaledHeight: number;
  /** 0–100. */
  quality: number;
  /** `times`: the first frame at or after each of `timesSec`; `best`: ffmpeg's most representative frame of the first seconds. */
  selection: { kind: 'times'; timesSec: number[]; stepSec: number } | { kind: 'best'; windowSec: number };
  /** The file written for each image, in order (a sprite writes one file). */
  names: string[];
  /** image2 pattern (`thumb_%06d.jpg`) when several files are written. */
  ffmpegPattern?: string;
  sprite?: { columns: number; rows: number; name: string; vttName: string; vtt: string };
}

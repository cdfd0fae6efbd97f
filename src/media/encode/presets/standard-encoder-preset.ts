import {
  defaultFilters,
  type AudioSpec,
  type Dimension,
  type EncodeSpec,
  type FilterSpec,
  type ImageLayerSpec,
  type ImageSpec,
  type RateControl,
  type StretchMode,
  type VideoCodec,
  type VideoLayerSpec,
} from '../plan/encode-spec.js';
import { unknownMacros } from './filename-pattern.js';
import type { FieldReader } from './field-reader.js';
import { parseFrameRate } from './frame-rate.js';
import { parseTimeSpec, type TimeSpec } from './time-spec.js';

export const standardEncoderType = '#Microsoft.Media.StandardEncoderPreset';

const aacSampleRates = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000];
const h264Profiles: Record<string, string | undefined> = {
  auto: undefined,
  baseline: 'baseline',
  main: 'main',
  high: 'high',
  high422: 'high422',
  high444: 'high444',
};
const h265Profiles: Record<string, string | undefined> = { auto: undefined, main: 'main', main10: 'main10' };

/**
 * AMS StandardEncoderPreset (`codecs`, `formats`, `filters`), field names and defaults as in the AMS REST
 * API (2022-07-01). What ffmpeg cannot do the way AMS did is reported, never silently changed, except
 * HE-AAC (see `parseAac`).
 */
export function parseStandardEncoderPreset(preset: Record<string, unknown>, r: FieldReader): EncodeSpec | undefined {
  r.onlyKnown(preset, 'preset', ['codecs', 'formats', 'filters', 'experimentalOptions']);
  if (preset.experimentalOptions !== undefined && Object.keys(preset.experimentalOptions as object).length > 0)
    r.problem('preset.experimentalOptions is not supported by Reel');
  const codecs = r.array(preset, 'codecs', 'preset', { required: true, minItems: 1 }) ?? [];
  const formats = r.array(preset, 'formats', 'preset', { required: true, minItems: 1 }) ?? [];
  const filters = parseFilters(preset, r);

  const video: VideoLayerSpec[] = [];
  const audio: AudioSpec[] = [];
  const images: Array<{ spec: Omit<ImageSpec, 'naming'>; path: string }> = [];
  let copyVideo: { label?: string } | undefined;
  let copyAudio: { label?: string } | undefined;
  const labels: string[] = [];
  const videoLabels = new Set<string>();

  codecs.forEach((codec, i) => {
    const path = `preset.codecs[${i}]`;
    const type = codec['@odata.type'];
    switch (type) {
      case '#Microsoft.Media.H264Video':
      case '#Microsoft.Media.H265Video': {
        const layers = parseVideoCodec(codec, path, type === '#Microsoft.Media.H264Video' ? 'h264' : 'h265', r);
        for (const l of layers) {
          video.push(l);
          if (l.label) {
            labels.push(l.label);
            videoLabels.add(l.label);
          }
        }
        break;
      }
      case '#Microsoft.Media.AacAudio': {
        const a = parseAac(codec, path, r);
        if (a) {
          audio.push(a);
          if (a.label) labels.push(a.label);
        }
        break;
      }
      case '#Microsoft.Media.JpgImage':
      case '#Microsoft.Media.PngImage': {
        const img = parseImage(codec, path, type === '#Microsoft.Media.JpgImage' ? 'jpg' : 'png', r);
        if (img) {
          images.push({ spec: img, path });
          if (img.label) labels.push(img.label);
        }
        break;
      }
      case '#Microsoft.Media.CopyVideo':
      case '#Microsoft.Media.CopyAudio': {
        r.onlyKnown(codec, path, ['label']);
        const label = r.string(codec, 'label', path);
        const isVideo = type === '#Microsoft.Media.CopyVideo';
        if ((isVideo && copyVideo) || (!isVideo && copyAudio)) r.problem(`${path}: only one ${String(type)} is supported`);
        if (isVideo) {
          copyVideo = label ? { label } : {};
          if (label) videoLabels.add(label);
        } else copyAudio = label ? { label } : {};
        if (label) labels.push(label);
        break;
      }
      default:
        r.problem(
          `${path}: codec ${JSON.stringify(type ?? null)} is not supported by Reel (supported: #Microsoft.Media.H264Video, #Microsoft.Media.H265Video, #Microsoft.Media.AacAudio, #Microsoft.Media.JpgImage, #Microsoft.Media.PngImage, #Microsoft.Media.CopyVideo, #Microsoft.Media.CopyAudio)`,
        );
    }
  });
  for (const dup of labels.filter((l, i) => labels.indexOf(l) !== i))
    r.problem(`label '${dup}' is used more than once in preset.codecs: labels must be unique`);

  // Formats: one Mp4Format for every video/audio output, a JpgFormat/PngFormat for every image codec.
  let mp4: { pattern: string; outputFiles?: string[][]; path: string } | undefined;
  const imagePatterns: Partial<Record<'jpg' | 'png', string>> = {};
  formats.forEach((format, i) => {
    const path = `preset.formats[${i}]`;
    const type = format['@odata.type'];
    const isMp4 = type === '#Microsoft.Media.Mp4Format';
    if (!isMp4 && type !== '#Microsoft.Media.JpgFormat' && type !== '#Microsoft.Media.PngFormat') {
      r.problem(
        `${path}: format ${JSON.stringify(type ?? null)} is not supported by Reel (supported: #Microsoft.Media.Mp4Format, #Microsoft.Media.JpgFormat, #Microsoft.Media.PngFormat)`,
      );
      return;
    }
    r.onlyKnown(format, path, isMp4 ? ['filenamePattern', 'outputFiles'] : ['filenamePattern']);
    const pattern = r.string(format, 'filenamePattern', path, { required: true });
    if (pattern === undefined) return;
    if (pattern.trim() === '') {
      r.problem(`${path}.filenamePattern must not be empty`);
      return;
    }
    const unknown = unknownMacros(pattern);
    if (unknown.length > 0)
      r.problem(
        `${path}.filenamePattern uses unknown macro(s) ${unknown.map((m) => `{${m}}`).join(', ')} (known: {Basename}, {Label}, {Bitrate}, {Codec}, {Resolution}, {Index}, {AudioStream}, {Extension})`,
      );
    if (isMp4) {
      if (mp4) {
        r.problem(`${path}: only one #Microsoft.Media.Mp4Format is supported`);
        return;
      }
      mp4 = { pattern, path, ...parseOutputFiles(format, path, labels, videoLabels, r) };
    } else {
      const kind = type === '#Microsoft.Media.JpgFormat' ? 'jpg' : 'png';
      if (imagePatterns[kind]) {
        r.problem(`${path}: only one ${type} is supported`);
        return;
      }
      imagePatterns[kind] = pattern;
    }
  });

  const hasMp4Content = video.length > 0 || audio.length > 0 || copyVideo !== undefined || copyAudio !== undefined;
  if (hasMp4Content && !mp4) r.problem('preset.formats needs a #Microsoft.Media.Mp4Format for the video and audio codecs');
  if (!hasMp4Content && mp4) r.problem(`${mp4.path}: #Microsoft.Media.Mp4Format has no video or audio codec to write`);
  const withNaming: ImageSpec[] = [];
  for (const { spec, path } of images) {
    const pattern = imagePatterns[spec.format];
    if (!pattern) {
      r.problem(`${path} needs a #Microsoft.Media.${spec.format === 'jpg' ? 'JpgFormat' : 'PngFormat'} in preset.formats`);
      continue;
    }
    if (!/\{index\}/i.test(pattern) && !isSingleImage(spec))
      r.problem(`the ${spec.format === 'jpg' ? 'JpgFormat' : 'PngFormat'} filenamePattern needs {Index}: ${path} produces several images`);
    if (!/\{label\}/i.test(pattern) && spec.layers.length > 1)
      r.problem(`the ${spec.format === 'jpg' ? 'JpgFormat' : 'PngFormat'} filenamePattern needs {Label}: ${path} has several layers`);
    withNaming.push({ ...spec, naming: { kind: 'pattern', pattern } });
  }
  for (const kind of ['jpg', 'png'] as const) {
    if (imagePatterns[kind] && !images.some((i) => i.spec.format === kind))
      r.problem(`preset.formats has a ${kind === 'jpg' ? 'JpgFormat' : 'PngFormat'} but no ${kind === 'jpg' ? 'JpgImage' : 'PngImage'} codec`);
  }
  if (video.filter((v) => v.isSceneChangeDetection).length > 0 && video.length > 1) {
    r.problem('sceneChangeDetection needs a single video layer: key frames at scene cuts would misalign the GOPs of the renditions');
  }
  if (video.length === 0 && !copyVideo && images.length === 0 && audio.length === 0 && !copyAudio) return undefined;
  return {
    video,
    isNoUpscale: false,
    audio,
    images: withNaming,
    ...(copyVideo ? { copyVideo } : {}),
    ...(copyAudio ? { copyAudio } : {}),
    filters,
    mp4Naming: mp4 ? { kind: 'pattern', pattern: mp4.pattern, ...(mp4.outputFiles ? { outputFiles: mp4.outputFiles } : {}) } : { kind: 'builtin' },
  };
}

function isSingleImage(spec: Omit<ImageSpec, 'naming'>): boolean {
  return spec.start.kind === 'best' || (spec.range.kind === 'frames' && spec.range.frames <= 1);
}

function parseOutputFiles(
  format: Record<string, unknown>,
  path: string,
  labels: string[],
  videoLabels: Set<string>,
  r: FieldReader,
): { outputFiles?: string[][] } {
  const entries = r.array(format, 'outputFiles', path);
  if (!entries || entries.length === 0) return {};
  const out: string[][] = [];
  entries.forEach((entry, i) => {
    const p = `${path}.outputFiles[${i}]`;
    r.onlyKnown(entry, p, ['labels']);
    const list = entry.labels;
    if (!Array.isArray(list) || list.length === 0 || list.some((l) => typeof l !== 'string')) {
      r.problem(`${p}.labels must be a non-empty array of codec/layer labels`);
      return;
    }
    for (const l of list as string[]) if (!labels.includes(l)) r.problem(`${p}.labels names '${l}', which no codec or layer has as its label`);
    if ((list as string[]).filter((l) => videoLabels.has(l)).length > 1)
      r.problem(`${p}.labels names more than one video layer: one MP4 holds one video rendition`);
    out.push(list as string[]);
  });
  return { outputFiles: out };
}

function parseVideoCodec(codec: Record<string, unknown>, path: string, kind: VideoCodec, r: FieldReader): VideoLayerSpec[] {
  r.onlyKnown(codec, path, ['label', 'keyFrameInterval', 'stretchMode', 'syncMode', 'complexity', 'layers', 'sceneChangeDetection', 'rateControlMode']);
  const codecLabel = r.string(codec, 'label', path);
  const keyFrameIntervalSec = r.duration(codec, 'keyFrameInterval', path, { min: 0.5, max: 20 }) ?? 2;
  const stretchMode = r.enumValue(codec, 'stretchMode', path, ['AutoSize', 'AutoFit', 'None'] as const) ?? 'AutoSize';
  const syncMode = r.enumValue(codec, 'syncMode', path, ['Auto', 'Passthrough', 'Cfr', 'Vfr'] as const);
  if (syncMode === 'Passthrough' || syncMode === 'Vfr')
    r.problem(`${path}.syncMode ${syncMode} is not supported by Reel: outputs are constant frame rate so the renditions' GOPs stay aligned (use Auto or Cfr)`);
  const complexity = r.enumValue(codec, 'complexity', path, ['Speed', 'Balanced', 'Quality'] as const) ?? 'Balanced';
  const isSceneChangeDetection = r.boolean(codec, 'sceneChangeDetection', path) ?? false;
  const mode = r.enumValue(codec, 'rateControlMode', path, ['ABR', 'CBR', 'CRF'] as const) ?? 'ABR';
  const rateControl: RateControl = mode === 'CBR' ? 'cbr' : mode === 'CRF' ? 'crf' : 'abr';
  const layers = r.array(codec, 'layers', path, { required: true, minItems: 1 }) ?? [];
  const profiles = kind === 'h264' ? h264Profiles : h265Profiles;
  return layers.flatMap((layer, i): VideoLayerSpec[] => {
    const p = `${path}.layers[${i}]`;
    r.onlyKnown(layer, p, [
      'bitrate',
      'maxBitrate',
      'bFrames',
      'frameRate',
      'slices',
      'adaptiveBFrame',
      'width',
      'height',
      'label',
      'bufferWindow',
      'crf',
      'profile',
      'level',
      'referenceFrames',
      ...(kind === 'h264' ? ['entropyMode'] : []),
    ]);
    const bitrateBps = r.integer(layer, 'bitrate', p, { required: true, min: 10_000, max: 200_000_000, unit: 'bits per second' });
    const maxBitrateBps = r.integer(layer, 'maxBitrate', p, { min: 10_000, max: 400_000_000, unit: 'bits per second' });
    if (bitrateBps !== undefined && maxBitrateBps !== undefined && maxBitrateBps < bitrateBps) r.problem(`${p}.maxBitrate must not be lower than bitrate`);
    const bufferWindowSec = r.duration(layer, 'bufferWindow', p, { min: 0.1, max: 100 });
    const crf = r.number(layer, 'crf', p, { min: 0, max: 51 });
    const profileRaw = r.string(layer, 'profile', p);
    const profileKey = profileRaw?.toLowerCase();
    if (profileKey !== undefined && !(profileKey in profiles))
      r.problem(`${p}.profile must be one of ${kind === 'h264' ? 'Auto, Baseline, Main, High, High422, High444' : 'Auto, Main, Main10'} (got '${profileRaw}')`);
    const levelRaw = r.string(layer, 'level', p);
    const level = levelRaw === undefined || levelRaw.toLowerCase() === 'auto' ? undefined : levelRaw;
    if (level !== undefined && !/^\d(\.\d)?$/.test(level)) r.problem(`${p}.level must be Auto or a level number such as 3.1 (got '${level}')`);
    const bFrames = r.integer(layer, 'bFrames', p, { min: 0, max: 16 });
    const referenceFrames = r.integer(layer, 'referenceFrames', p, { min: 1, max: 16 });
    const slices = r.integer(layer, 'slices', p, { min: 0, max: 32 });
    const adaptiveBFrame = r.boolean(layer, 'adaptiveBFrame', p);
    const entropy = kind === 'h264' ? r.enumValue(layer, 'entropyMode', p, ['Cabac', 'Cavlc'] as const) : undefined;
    const frameRateRaw = r.string(layer, 'frameRate', p);
    const frameRate = frameRateRaw === undefined ? undefined : parseFrameRate(frameRateRaw);
    if (frameRateRaw !== undefined && !frameRate) r.problem(`${p}.frameRate must be a rate such as 30, 29.97 or 30000/1001 (got '${frameRateRaw}')`);
    const width = r.dimension(layer, 'width', p);
    const height = r.dimension(layer, 'height', p);
    const label = r.string(layer, 'label', p) ?? (layers.length === 1 ? codecLabel : undefined);
    const profile = profileKey !== undefined ? profiles[profileKey] : undefined;
    if (profile === 'baseline' && bFrames) r.problem(`${p}.bFrames must be 0 with the Baseline profile`);
    if (bitrateBps === undefined) return [];
    return [
      {
        codec: kind,
        bitrateBps,
        rateControl,
        keyFrameIntervalSec,
        isSceneChangeDetection,
        complexity,
        stretchMode,
        ...(width ? { width } : {}),
        ...(height ? { height } : {}),
        ...(maxBitrateBps !== undefined ? { maxBitrateBps } : {}),
        ...(bufferWindowSec !== undefined ? { bufferWindowSec } : {}),
        ...(crf !== undefined ? { crf } : {}),
        ...(profile ? { profile } : {}),
        ...(level ? { level } : {}),
        ...(bFrames !== undefined ? { bFrames } : {}),
        ...(referenceFrames !== undefined ? { referenceFrames } : {}),
        ...(slices ? { slices } : {}),
        ...(adaptiveBFrame !== undefined ? { adaptiveBFrame } : {}),
        ...(entropy ? { entropyMode: entropy === 'Cabac' ? 'cabac' : 'cavlc' } : {}),
        ...(frameRate ? { frameRate } : {}),
        ...(label ? { label } : {}),
      } satisfies VideoLayerSpec,
    ];
  });
}

/**
 * AacAudio. HE-AAC v1/v2 need libfdk_aac, which Debian's ffmpeg does not ship: those profiles are encoded as
 * AAC-LC at the asked bitrate (every player that decodes HE-AAC decodes LC), so migrated AMS transforms keep working.
 */
function parseAac(codec: Record<string, unknown>, path: string, r: FieldReader): AudioSpec | undefined {
  r.onlyKnown(codec, path, ['label', 'channels', 'samplingRate', 'bitrate', 'profile']);
  const label = r.string(codec, 'label', path);
  const channels = r.integer(codec, 'channels', path, { min: 1, max: 8 }) ?? 2;
  const sampleRateHz = r.integer(codec, 'samplingRate', path, { min: 8000, max: 96000, unit: 'Hz' }) ?? 48000;
  if (!aacSampleRates.includes(sampleRateHz)) r.problem(`${path}.samplingRate must be one of ${aacSampleRates.join(', ')} Hz (got ${sampleRateHz})`);
  const bitrateBps = r.integer(codec, 'bitrate', path, { min: 8000, max: 640_000, unit: 'bits per second' }) ?? 128_000;
  r.enumValue(codec, 'profile', path, ['AacLc', 'HeAacV1', 'HeAacV2'] as const);
  return { channels, sampleRateHz, bitrateBps, ...(label ? { label } : {}) };
}

function parseImage(codec: Record<string, unknown>, path: string, format: 'jpg' | 'png', r: FieldReader): Omit<ImageSpec, 'naming'> | undefined {
  r.onlyKnown(codec, path, [
    'label',
    'keyFrameInterval',
    'stretchMode',
    'syncMode',
    'start',
    'step',
    'range',
    'layers',
    ...(format === 'jpg' ? ['spriteColumn'] : []),
  ]);
  const label = r.string(codec, 'label', path);
  const stretchMode: StretchMode = r.enumValue(codec, 'stretchMode', path, ['AutoSize', 'AutoFit', 'None'] as const) ?? 'AutoSize';
  r.duration(codec, 'keyFrameInterval', path, { min: 0.5, max: 20 });
  r.enumValue(codec, 'syncMode', path, ['Auto', 'Passthrough', 'Cfr', 'Vfr'] as const);
  const start = imagePosition(codec, 'start', path, r, '{Best}', true);
  const step = imagePosition(codec, 'step', path, r, '10%', false);
  const range = imagePosition(codec, 'range', path, r, '100%', false);
  if (step?.kind === 'frames' && step.frames === 0) r.problem(`${path}.step must not be zero`);
  const spriteColumns = format === 'jpg' ? r.integer(codec, 'spriteColumn', path, { min: 1, max: 100 }) : undefined;
  const rawLayers = r.array(codec, 'layers', path) ?? [];
  const layers: ImageLayerSpec[] = rawLayers.map((layer, i) => {
    const p = `${path}.layers[${i}]`;
    r.onlyKnown(layer, p, ['width', 'height', 'label', ...(format === 'jpg' ? ['quality'] : [])]);
    const width = r.dimension(layer, 'width', p);
    const height = r.dimension(layer, 'height', p);
    const quality = format === 'jpg' ? (r.integer(layer, 'quality', p, { min: 0, max: 100 }) ?? 70) : 100;
    const layerLabel = r.string(layer, 'label', p);
    return { ...(width ? { width } : {}), ...(height ? { height } : {}), quality, ...(layerLabel ? { label: layerLabel } : {}) };
  });
  const layerLabels = layers.map((l) => l.label ?? '');
  if (layers.length > 1 && new Set(layerLabels).size !== layers.length) r.problem(`${path}.layers need distinct labels: output names would collide`);
  if (!start || !step || !range) return undefined;
  return {
    format,
    start,
    step,
    range,
    layers: layers.length > 0 ? layers : [{ quality: 70 }],
    stretchMode,
    ...(spriteColumns ? { spriteColumns } : {}),
    ...(label ? { label } : {}),
  };
}

function imagePosition(obj: Record<string, unknown>, key: string, path: string, r: FieldReader, fallback: string, allowBest: boolean): TimeSpec | undefined {
  const raw = obj[key] ?? fallback;
  const spec = parseTimeSpec(raw, { allowBest });
  if (!spec)
    r.problem(
      `${path}.${key} must be an ISO 8601 duration (PT5S), a frame number ("30")${allowBest ? ', {Best}' : ''} or a percentage ("10%") (got ${JSON.stringify(raw)})`,
    );
  return spec;
}

function parseFilters(preset: Record<string, unknown>, r: FieldReader): FilterSpec {
  const filters = defaultFilters();
  const f = r.object(preset, 'filters', 'preset');
  if (!f) return filters;
  const path = 'preset.filters';
  r.onlyKnown(f, path, ['crop', 'deinterlace', 'rotation', 'overlays', 'fadeIn', 'fadeOut']);
  if (Array.isArray(f.overlays) && f.overlays.length > 0) r.problem(`${path}.overlays is not supported by Reel`);
  for (const k of ['fadeIn', 'fadeOut']) if (f[k] !== undefined && f[k] !== null) r.problem(`${path}.${k} is not supported by Reel`);
  const rotation = r.enumValue(f, 'rotation', path, ['Auto', 'None', 'Rotate0', 'Rotate90', 'Rotate180', 'Rotate270'] as const);
  if (rotation) filters.rotation = rotation;
  const d = r.object(f, 'deinterlace', path);
  if (d) {
    r.onlyKnown(d, `${path}.deinterlace`, ['parity', 'mode']);
    const parity = r.enumValue(d, 'parity', `${path}.deinterlace`, ['Auto', 'TopFieldFirst', 'BottomFieldFirst'] as const);
    const mode = r.enumValue(d, 'mode', `${path}.deinterlace`, ['Off', 'AutoPixelAdaptive'] as const);
    filters.deinterlace = { isEnabled: mode !== 'Off', parity: parity === 'TopFieldFirst' ? 'tff' : parity === 'BottomFieldFirst' ? 'bff' : 'auto' };
  }
  const c = r.object(f, 'crop', path);
  if (c) {
    const p = `${path}.crop`;
    r.onlyKnown(c, p, ['left', 'top', 'width', 'height']);
    const offset = (key: string): Dimension | undefined => {
      // Offsets may be 0 or 1 px, which `dimension` (a size) refuses.
      const v = c[key];
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2) return { px: v };
      if (typeof v === 'string' && /^[01]$/.test(v.trim())) return { px: Number(v) };
      if (v === '0%') return { px: 0 };
      return r.dimension(c, key, p);
    };
    const left = offset('left') ?? { px: 0 };
    const top = offset('top') ?? { px: 0 };
    const width = r.dimension(c, 'width', p);
    const height = r.dimension(c, 'height', p);
    if (!width || !height) r.problem(`${p} needs width and height`);
    else filters.crop = { left, top, width, height };
  }
  return filters;
}

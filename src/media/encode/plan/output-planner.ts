import { buildAutoLadder } from '../presets/adaptive-ladder.js';
import { EncodeError, type EncodeInput } from '../encode-engine.js';
import type {
  AudioEncodeTrack,
  CopyTrack,
  EncodePlan,
  ImageOutputPlan,
  Mp4OutputPlan,
  Mp4Track,
  PicturePlan,
  PlannedInput,
  VideoEncodeTrack,
} from './encode-plan.js';
import type { Dimension, EncodeSpec, ImageSpec, StretchMode, VideoLayerSpec } from './encode-spec.js';
import { basenameOf, expandFilenamePattern, sanitize, type FilenameValues } from '../presets/filename-pattern.js';
import { capFrameRate, frameRateValue, snapFrameRate, type FrameRate } from '../presets/frame-rate.js';
import { audioTrackName, type IsmTrack } from './ism-writer.js';
import type { SourceAudio, SourceInfo, SourceVideo } from '../ffmpeg/source-prober.js';
import { spriteVtt } from '../presets/sprite-index.js';
import { formatSec, timeSpecToSec } from '../presets/time-spec.js';

export interface PlanSource {
  input: EncodeInput;
  info: SourceInfo;
}

export interface PlanOptions {
  clip?: { startSec?: number; endSec?: number };
  x264Preset: string;
  x265Preset: string;
  /** ContentAwareEncoding's measured complexity (see complexity-probe.ts); 1 = the reference ladder. */
  complexityFactor?: number;
}

/** The plan, and the names that had to be suffixed (`_2`) because the preset gave two files one name. */
export type PlanResult = EncodePlan & { renamed: string[] };

/** Most images one image codec layer may write in one job; more is almost surely a step typo (`"1"` frame). */
export const maxImagesPerLayer = 10_000;

const speedPresets = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

/** Turns a spec into concrete files for the probed inputs. Throws EncodeError when the input cannot satisfy it. */
export function planEncode(spec: EncodeSpec, sources: PlanSource[], options: PlanOptions): PlanResult {
  if (sources.length === 0) throw new EncodeError('ConfigurationUnsupported', 'The job has no input file');
  const names = new NameRegistry();
  return spec.convert ? planConversion(spec, sources, options, names) : planTranscode(spec, sources, options, names);
}

// ---------------------------------------------------------------------------------------------- transcode

function planTranscode(spec: EncodeSpec, sources: PlanSource[], options: PlanOptions, names: NameRegistry): PlanResult {
  const videoChoice = pickVideo(sources);
  const audioChoice = pickAudio(sources, videoChoice?.sourceIndex);
  const wantsPicture = spec.video.length > 0 || spec.autoLadder !== undefined || spec.images.length > 0;
  if (!videoChoice && spec.images.length > 0) throw new EncodeError('ContentUnsupported', 'The input has no video track: thumbnails need one');
  if (!videoChoice && !audioChoice) throw new EncodeError('ContentUnsupported', 'The input has no audio or video track');
  const main = sources[(videoChoice ?? audioChoice)?.sourceIndex ?? 0];
  const clip = resolveClip(options.clip, main.info.durationSec);
  const basename = basenameOf(main.input.fileName);

  const inputs: PlannedInput[] = [];
  const inputIndexOf = new Map<number, number>();
  const useInput = (sourceIndex: number, isNoAutorotate = false): number => {
    const existing = inputIndexOf.get(sourceIndex);
    if (existing !== undefined) return existing;
    inputs.push({ url: sources[sourceIndex].input.url, ...clip.input, ...(isNoAutorotate ? { isNoAutorotate } : {}) });
    inputIndexOf.set(sourceIndex, inputs.length - 1);
    return inputs.length - 1;
  };

  let picture: PicturePlan | undefined;
  const videoTracks: VideoEncodeTrack[] = [];
  if (videoChoice && (wantsPicture || spec.copyVideo)) {
    const rotation = spec.filters.rotation;
    const inputIndex = useInput(videoChoice.sourceIndex, rotation === 'None');
    if (wantsPicture) {
      picture = planPicture(spec, videoChoice.video, inputIndex);
      for (const layer of planLayers(spec, picture, videoChoice.video, options)) {
        videoTracks.push(videoTrack(layer.spec, layer.size, picture, options));
      }
    }
  }
  if (!videoChoice && spec.audio.length === 0 && !spec.copyAudio)
    throw new EncodeError('ContentUnsupported', 'The input has no video track and the preset writes only video');

  const audioTracks: AudioEncodeTrack[] = [];
  let audioSource: EncodePlan['audioSource'];
  if (audioChoice && spec.audio.length > 0) {
    audioSource = { inputIndex: useInput(audioChoice.sourceIndex), streamIndex: audioChoice.audio.streamIndex };
    for (const a of spec.audio) {
      audioTracks.push({
        kind: 'audio-encode',
        channels: a.channels,
        sampleRateHz: a.sampleRateHz,
        bitrateBps: a.bitrateBps,
        ...(audioChoice.audio.language ? { language: audioChoice.audio.language } : {}),
        ...(a.label ? { label: a.label } : {}),
      });
    }
  } else if (spec.audio.length > 0 && videoTracks.length === 0 && !spec.copyVideo && spec.images.length === 0) {
    throw new EncodeError('ContentUnsupported', 'The input has no audio track and the preset writes only audio');
  }

  const copyTracks: CopyTrack[] = [];
  if (spec.copyVideo && videoChoice) {
    const v = videoChoice.video;
    copyTracks.push({
      kind: 'copy',
      media: 'video',
      inputIndex: useInput(videoChoice.sourceIndex),
      streamIndex: v.streamIndex,
      bitrateBps: v.bitrateBps ?? 0,
      codec: v.codec,
      width: v.displayWidth,
      height: v.displayHeight,
      ...(spec.copyVideo.label ? { label: spec.copyVideo.label } : {}),
    });
  }
  if (spec.copyAudio && audioChoice) {
    const a = audioChoice.audio;
    copyTracks.push({
      kind: 'copy',
      media: 'audio',
      inputIndex: useInput(audioChoice.sourceIndex),
      streamIndex: a.streamIndex,
      bitrateBps: a.bitrateBps ?? 128_000,
      codec: a.codec,
      channels: a.channels,
      ...(a.language ? { language: a.language } : {}),
      ...(spec.copyAudio.label ? { label: spec.copyAudio.label } : {}),
    });
  }

  const mp4 = groupMp4(
    spec,
    basename,
    [...videoTracks, ...copyTracks.filter((t) => t.media === 'video'), ...audioTracks, ...copyTracks.filter((t) => t.media === 'audio')],
    names,
  );
  const images = picture ? spec.images.flatMap((img) => planImages(img, picture, basename, clip.outDurationSec, names)) : [];
  if (mp4.length === 0 && images.length === 0)
    throw new EncodeError('ContentUnsupported', 'The preset writes nothing for this input (no matching audio or video track)');
  return {
    inputs,
    ...(picture ? { picture } : {}),
    ...(audioSource ? { audioSource } : {}),
    mp4,
    images,
    ...(mp4.length > 0 ? { manifest: { name: names.unique(`${basename}.ism`), tracks: manifestTracks(mp4) } } : {}),
    durationSec: clip.outDurationSec,
    renamed: names.renamed,
  };
}

/** The picture every rung is scaled from: rotation, crop and the constant frame rate of the shared branch. */
function planPicture(spec: EncodeSpec, v: SourceVideo, inputIndex: number): PicturePlan {
  const rotation = spec.filters.rotation;
  const display = { width: v.displayWidth, height: v.displayHeight };
  let base = display;
  let rotateFilter: string | undefined;
  if (rotation === 'None') {
    // Stored orientation; ffmpeg copies the display matrix to the outputs, so players still turn the picture.
    const isSideways = v.rotationDeg === 90 || v.rotationDeg === 270;
    base = isSideways ? { width: display.height, height: display.width } : display;
  } else if (rotation !== 'Auto') {
    // Frames arrive display-oriented (ffmpeg's autorotate also resets the output matrix); turning them by
    // (asked − display rotation) gives the stored picture turned as asked, with no rotation metadata.
    const asked = { Rotate0: 0, Rotate90: 90, Rotate180: 180, Rotate270: 270 }[rotation];
    const net = (((asked - v.rotationDeg) % 360) + 360) % 360;
    rotateFilter = net === 90 ? 'transpose=clock' : net === 270 ? 'transpose=cclock' : net === 180 ? 'hflip,vflip' : undefined;
    if (net === 90 || net === 270) base = { width: display.height, height: display.width };
  }
  let crop: PicturePlan['crop'];
  const c = spec.filters.crop;
  if (c) {
    const x = even(Math.min(dim(c.left, base.width), base.width - 2), 'floor');
    const y = even(Math.min(dim(c.top, base.height), base.height - 2), 'floor');
    const width = even(Math.min(dim(c.width, base.width), base.width - x), 'floor');
    const height = even(Math.min(dim(c.height, base.height), base.height - y), 'floor');
    crop = { x, y, width: Math.max(2, width), height: Math.max(2, height) };
    base = { width: crop.width, height: crop.height };
  }
  const frameRate = spec.maxFrameRate !== undefined ? capFrameRate(v.frameRate, spec.maxFrameRate) : v.frameRate;
  return {
    inputIndex,
    streamIndex: v.streamIndex,
    ...(spec.filters.deinterlace.isEnabled ? { deinterlace: { parity: spec.filters.deinterlace.parity } } : {}),
    ...(rotateFilter ? { rotateFilter } : {}),
    ...(Math.abs(v.sampleAspectRatio - 1) > 0.001 ? { isAnamorphic: true } : {}),
    ...(crop ? { crop } : {}),
    width: base.width,
    height: base.height,
    frameRate,
  };
}

interface Size {
  width: number;
  height: number;
  fit: 'scale' | 'pad';
  scaledWidth: number;
  scaledHeight: number;
}

/**
 * The rungs for this input. Fixed built-in ladders never upscale: a rung whose box (turned to the picture's
 * orientation) has a short side longer than the picture's is dropped, and when every rung is, the lowest
 * one is kept at the picture's own size. That is what AMS's AdaptiveStreaming did ("output will remain
 * 720p at best" for a 720p input), and upscaling only spends bits on blur.
 */
function planLayers(spec: EncodeSpec, picture: PicturePlan, v: SourceVideo, options: PlanOptions): Array<{ spec: VideoLayerSpec; size: Size }> {
  let layers = spec.video;
  if (spec.autoLadder) {
    const { kind, codec, configuration } = spec.autoLadder;
    layers = buildAutoLadder({
      kind,
      codec,
      picture,
      ...(v.bitrateBps ? { sourceVideoBitrateBps: v.bitrateBps } : {}),
      ...(options.complexityFactor !== undefined ? { complexityFactor: options.complexityFactor } : {}),
      ...(configuration ? { configuration } : {}),
    }).map((rung) => ({
      codec,
      width: { px: rung.width },
      height: { px: rung.height },
      bitrateBps: rung.kbps * 1000,
      rateControl: 'abr',
      keyFrameIntervalSec: configuration?.keyFrameIntervalSec ?? 2,
      isSceneChangeDetection: false,
      complexity: configuration?.complexity ?? 'Balanced',
      stretchMode: 'AutoSize',
    }));
  }
  if (!spec.isNoUpscale) return layers.map((l) => ({ spec: l, size: sizeFor(l.width, l.height, picture, l.stretchMode) }));
  const isPortrait = picture.height > picture.width;
  const pictureShort = Math.min(picture.width, picture.height);
  const boxes = layers.map((l) => {
    const w = dim(l.width ?? { px: picture.width }, picture.width);
    const h = dim(l.height ?? { px: picture.height }, picture.height);
    return isPortrait ? { width: h, height: w } : { width: w, height: h };
  });
  const kept = layers.map((l, i) => ({ spec: l, box: boxes[i] })).filter((x) => Math.min(x.box.width, x.box.height) <= pictureShort);
  if (kept.length === 0) {
    const lowest = layers.reduce((a, b) => (a.bitrateBps <= b.bitrateBps ? a : b));
    return [{ spec: lowest, size: fit(picture.width, picture.height, picture, 'AutoSize') }];
  }
  return kept.map((x) => ({ spec: x.spec, size: fit(x.box.width, x.box.height, picture, 'AutoSize') }));
}

function videoTrack(l: VideoLayerSpec, size: Size, picture: PicturePlan, options: PlanOptions): VideoEncodeTrack {
  const layerRate = l.frameRate ? snapFrameRate(frameRateValue(l.frameRate)) : undefined;
  const rate: FrameRate = layerRate ?? picture.frameRate;
  const peak = l.rateControl === 'capped-crf' ? l.bitrateBps : (l.maxBitrateBps ?? (l.rateControl === 'crf' ? undefined : l.bitrateBps));
  const bufferSizeBits = peak === undefined ? undefined : Math.round((l.rateControl === 'capped-crf' ? 2 : (l.bufferWindowSec ?? 5)) * peak);
  const crf = l.rateControl === 'crf' || l.rateControl === 'capped-crf' ? (l.crf ?? (l.codec === 'h264' ? 23 : 28)) : undefined;
  return {
    kind: 'video-encode',
    codec: l.codec,
    ...size,
    bitrateBps: l.bitrateBps,
    ...(peak !== undefined ? { maxBitrateBps: peak } : {}),
    ...(bufferSizeBits !== undefined ? { bufferSizeBits } : {}),
    rateControl: l.rateControl,
    ...(crf !== undefined ? { crf } : {}),
    ...(l.profile ? { profile: l.profile } : {}),
    ...(l.level ? { level: l.level } : {}),
    pixelFormat: pixelFormatOf(l.profile),
    ...(l.bFrames !== undefined ? { bFrames: l.bFrames } : {}),
    ...(l.referenceFrames !== undefined ? { referenceFrames: l.referenceFrames } : {}),
    ...(l.slices ? { slices: l.slices } : {}),
    ...(l.adaptiveBFrame !== undefined ? { adaptiveBFrame: l.adaptiveBFrame } : {}),
    ...(l.entropyMode ? { entropyMode: l.entropyMode } : {}),
    ...(layerRate && layerRate.text !== picture.frameRate.text ? { frameRate: layerRate } : {}),
    keyFrameIntervalSec: l.keyFrameIntervalSec,
    gopFrames: Math.max(1, Math.ceil(rate.value * l.keyFrameIntervalSec - 1e-6)),
    isSceneChangeDetection: l.isSceneChangeDetection,
    speedPreset: speedFor(l.codec === 'h264' ? options.x264Preset : options.x265Preset, l.complexity),
    ...(l.label ? { label: l.label } : {}),
  };
}

function pixelFormatOf(profile: string | undefined): string {
  return profile === 'high422' ? 'yuv422p' : profile === 'high444' ? 'yuv444p' : profile === 'main10' ? 'yuv420p10le' : 'yuv420p';
}

/** AMS complexity relative to the configured x264/x265 preset: Speed one step faster, Quality one step slower. */
export function speedFor(configured: string, complexity: VideoLayerSpec['complexity']): string {
  const i = speedPresets.indexOf(configured);
  if (i < 0) return configured;
  const j = complexity === 'Speed' ? i - 1 : complexity === 'Quality' ? i + 1 : i;
  return speedPresets[Math.min(speedPresets.length - 1, Math.max(0, j))];
}

// ---------------------------------------------------------------------------------------------- sizes

const dim = (d: Dimension, of: number): number => ('px' in d ? d.px : (of * d.percent) / 100);

/** An even size (H.264/H.265 4:2:0 need even sides), at least 2. */
function even(n: number, mode: 'round' | 'floor' = 'round'): number {
  return Math.max(mode === 'floor' ? 0 : 2, (mode === 'floor' ? Math.floor(n / 2) : Math.round(n / 2)) * 2);
}

/** A layer's output size: missing sides follow the picture's shape; both sides obey the stretch mode. */
export function sizeFor(width: Dimension | undefined, height: Dimension | undefined, picture: { width: number; height: number }, stretch: StretchMode): Size {
  if (!width && !height) return fit(picture.width, picture.height, picture, 'None');
  if (width && !height) {
    const w = dim(width, picture.width);
    return fit(w, (w * picture.height) / picture.width, picture, 'None');
  }
  if (!width && height) {
    const h = dim(height, picture.height);
    return fit((h * picture.width) / picture.height, h, picture, 'None');
  }
  return fit(dim(width as Dimension, picture.width), dim(height as Dimension, picture.height), picture, stretch);
}

/** AutoSize: fit inside the box keeping the picture's shape; AutoFit: that, padded to the box; None: the box. */
function fit(boxWidth: number, boxHeight: number, picture: { width: number; height: number }, stretch: StretchMode): Size {
  const boxW = even(boxWidth);
  const boxH = even(boxHeight);
  if (stretch === 'None') return { width: boxW, height: boxH, fit: 'scale', scaledWidth: boxW, scaledHeight: boxH };
  const scale = Math.min(boxWidth / picture.width, boxHeight / picture.height);
  const w = Math.min(boxW, even(picture.width * scale));
  const h = Math.min(boxH, even(picture.height * scale));
  if (stretch === 'AutoFit') return { width: boxW, height: boxH, fit: boxW === w && boxH === h ? 'scale' : 'pad', scaledWidth: w, scaledHeight: h };
  return { width: w, height: h, fit: 'scale', scaledWidth: w, scaledHeight: h };
}

// ---------------------------------------------------------------------------------------------- naming

const codecMacro = (t: Mp4Track): string => {
  if (t.kind === 'video-encode') return t.codec === 'h264' ? 'H264' : 'H265';
  if (t.kind === 'audio-encode') return 'AAC';
  return t.codec === 'hevc' ? 'H265' : t.codec.toUpperCase();
};

const kbpsOf = (bps: number): number => Math.round(bps / 1000);

/** Reel's built-in names: `{Basename}_{width}x{height}_{kbps}.mp4` and `{Basename}_{CODEC}Audio_{kbps}.mp4` (AMS style). */
function builtinName(basename: string, t: Mp4Track): string {
  if (t.kind === 'video-encode') return `${basename}_${t.width}x${t.height}_${kbpsOf(t.bitrateBps)}.mp4`;
  if (t.kind === 'copy' && t.media === 'video') return `${basename}_${t.width}x${t.height}_${kbpsOf(t.bitrateBps)}.mp4`;
  return `${basename}_${codecMacro(t)}Audio_${kbpsOf(t.bitrateBps)}.mp4`;
}

/**
 * MP4 files. Each video rendition and each audio rendition is its own file unless an AMS Mp4Format
 * `outputFiles` entry muxes labels together: separate files let the origin combine any rung with any audio
 * without storing the audio once per rung.
 */
function groupMp4(spec: EncodeSpec, basename: string, tracks: Mp4Track[], names: NameRegistry): Mp4OutputPlan[] {
  const groups: Mp4Track[][] = [];
  const naming = spec.mp4Naming;
  const assigned = new Set<Mp4Track>();
  if (naming.kind === 'pattern' && naming.outputFiles) {
    for (const labels of naming.outputFiles) {
      const members = tracks.filter((t) => t.label !== undefined && labels.includes(t.label));
      const ordered = [...members.filter(isVideo), ...members.filter((t) => !isVideo(t))];
      if (ordered.length > 0) groups.push(ordered);
      for (const t of ordered) assigned.add(t);
    }
  }
  for (const t of tracks) if (!assigned.has(t)) groups.push([t]);
  let audioIndex = 0;
  return groups.map((group) => {
    const primary = group[0];
    if (!isVideo(primary)) audioIndex++;
    const name =
      naming.kind === 'builtin'
        ? builtinName(basename, primary)
        : expandFilenamePattern(naming.pattern, mp4Values(basename, primary, isVideo(primary) ? undefined : audioIndex));
    return { name: names.unique(name), tracks: group };
  });
}

const isVideo = (t: Mp4Track): boolean => t.kind === 'video-encode' || (t.kind === 'copy' && t.media === 'video');

function mp4Values(basename: string, t: Mp4Track, audioStream: number | undefined): FilenameValues {
  const width = t.kind === 'video-encode' ? t.width : t.kind === 'copy' ? t.width : undefined;
  const height = t.kind === 'video-encode' ? t.height : t.kind === 'copy' ? t.height : undefined;
  return {
    basename,
    extension: '.mp4',
    codec: codecMacro(t),
    ...(t.label ? { label: t.label } : {}),
    ...(t.bitrateBps ? { bitrateKbps: kbpsOf(t.bitrateBps) } : {}),
    ...(width && height ? { resolution: `${width}x${height}` } : {}),
    ...(audioStream !== undefined ? { audioStream } : {}),
  };
}

/** Every MP4 track for the `.ism`; an audio rendition muxed into several files is listed once. */
function manifestTracks(mp4: Mp4OutputPlan[]): IsmTrack[] {
  const out: IsmTrack[] = [];
  const seen = new Set<Mp4Track>();
  const codecs = new Set(
    mp4
      .flatMap((f) => f.tracks)
      .filter((t) => t.kind === 'video-encode')
      .map((t) => t.codec),
  );
  for (const file of mp4) {
    file.tracks.forEach((t, i) => {
      if (seen.has(t)) return;
      seen.add(t);
      const trackId = i + 1;
      if (t.kind === 'video-encode') {
        // One switching group per codec: players must not switch between H.264 and H.265 mid-stream.
        out.push({
          kind: 'video',
          src: file.name,
          bitrateBps: t.bitrateBps,
          trackId,
          trackName: codecs.size > 1 && t.codec === 'h265' ? 'video_h265' : 'video',
        });
      } else if (t.kind === 'audio-encode') {
        out.push({
          kind: 'audio',
          src: file.name,
          bitrateBps: t.bitrateBps,
          trackId,
          trackName: audioTrackName('aac', t.language, t.channels, t.bitrateBps),
          ...(t.language ? { language: t.language } : {}),
        });
      } else if (t.media === 'video') {
        out.push({ kind: 'video', src: file.name, bitrateBps: t.bitrateBps, trackId, trackName: 'video' });
      } else {
        out.push({
          kind: 'audio',
          src: file.name,
          bitrateBps: t.bitrateBps,
          trackId,
          trackName: audioTrackName(t.codec, t.language, t.channels ?? 2, t.bitrateBps),
          ...(t.language ? { language: t.language } : {}),
        });
      }
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- images

function planImages(img: ImageSpec, picture: PicturePlan, basename: string, durationSec: number, names: NameRegistry): ImageOutputPlan[] {
  const fps = picture.frameRate.value;
  const media = { durationSec, frameRate: fps };
  // The last frame starts one frame before the end; a start past it (PT10S on a 5 s clip) takes that frame.
  const lastFrameSec = Math.max(0, durationSec - 1 / fps);
  let selection: ImageOutputPlan['selection'];
  let seriesEndSec = durationSec;
  if (img.start.kind === 'best') {
    selection = { kind: 'best', windowSec: Math.min(5, Math.max(durationSec, 1 / fps)) };
  } else {
    const start = Math.min(Math.max(0, timeSpecToSec(img.start, media)), lastFrameSec);
    const isSingle = img.rangeCount === 1 || (img.range.kind === 'frames' && img.range.frames <= 1);
    const step = img.step.kind === 'best' ? 0 : timeSpecToSec(img.step, media);
    const end = img.range.kind === 'best' ? durationSec : Math.min(durationSec, start + timeSpecToSec(img.range, media));
    if (img.rangeCount === undefined) seriesEndSec = end;
    const times: number[] = [start];
    if (!isSingle && step > 0) {
      const maxCount = img.rangeCount ?? Number.POSITIVE_INFINITY;
      for (let t = start + step; t < end - 1e-9 && t <= lastFrameSec + 1e-9 && times.length < maxCount; t += step) {
        times.push(Math.round(t * 1e6) / 1e6);
        if (times.length > maxImagesPerLayer) {
          throw new EncodeError(
            'ConfigurationUnsupported',
            `The thumbnail settings ask for more than ${maxImagesPerLayer} images (one every ${formatSec(step)} over ${formatSec(end - start)}); use a longer step`,
          );
        }
      }
    }
    selection = { kind: 'times', timesSec: times, stepSec: step };
  }
  const count = selection.kind === 'best' ? 1 : selection.timesSec.length;
  const ext = img.format === 'jpg' ? '.jpg' : '.png';
  return img.layers.map((layer) => {
    const size = sizeFor(layer.width, layer.height, picture, img.stretchMode);
    const label = layer.label ?? img.label;
    const nameAt = (index: string): string => {
      if (img.naming.kind === 'thumbnail-generator') return `${img.naming.baseFilename ?? basename}_${sanitize(label ?? '')}${index}${ext}`;
      const pattern = /\{index\}/i.test(img.naming.pattern) || count === 1 ? img.naming.pattern : withIndex(img.naming.pattern);
      return expandFilenamePattern(pattern, {
        basename,
        extension: ext,
        codec: img.format.toUpperCase(),
        resolution: `${size.width}x${size.height}`,
        index,
        ...(label ? { label } : {}),
      });
    };
    const isAms = img.naming.kind === 'pattern';
    const base: Omit<ImageOutputPlan, 'names'> = { format: img.format, ...size, quality: layer.quality, selection };
    if (img.spriteColumns && selection.kind === 'times') {
      const columns = Math.min(img.spriteColumns, count);
      const rows = Math.ceil(count / columns);
      let name = isAms
        ? nameAt('000001')
        : `${img.naming.kind === 'thumbnail-generator' ? (img.naming.baseFilename ?? basename) : basename}_${sanitize(label ?? '')}`.replace(/_$/, '') + ext;
      name = names.unique(name);
      const vttName = names.unique(name.replace(/\.[^.]+$/, '.vtt'));
      const last = selection.timesSec[selection.timesSec.length - 1];
      const vtt = spriteVtt({
        spriteName: name,
        timesSec: selection.timesSec,
        endSec: img.rangeCount !== undefined ? Math.min(durationSec, last + selection.stepSec) : seriesEndSec,
        tileWidth: size.width,
        tileHeight: size.height,
        columns,
      });
      return { ...base, names: [name], sprite: { columns, rows, name, vttName, vtt } };
    }
    const width = isAms ? 6 : 0;
    const indexText = (i: number) => String(i).padStart(width, '0');
    const list = names.uniqueGroup(Array.from({ length: count }, (_, i) => nameAt(indexText(i + 1))));
    const pattern = list.suffix ? nameAt(isAms ? '%06d' : '%d').replace(/(\.[^.]+)$/, `${list.suffix}$1`) : nameAt(isAms ? '%06d' : '%d');
    return { ...base, names: list.names, ...(count > 1 ? { ffmpegPattern: pattern } : {}) };
  });
}

/** A pattern without {Index} that must write several images gets `_{Index}` before its extension. */
function withIndex(pattern: string): string {
  return /\{extension\}/i.test(pattern) ? pattern.replace(/\{extension\}/i, '_{Index}{Extension}') : `${pattern}_{Index}`;
}

// ---------------------------------------------------------------------------------------------- conversion

/**
 * BuiltInAssetConverterPreset: every stream copied as is, and a `.ism` named after the inputs' common name.
 * NonInterleaved writes one MP4 per video and per distinct audio track (the same audio repeated in several
 * interleaved renditions is written once), keeping a single-track input's name and otherwise named as the
 * built-in ladders are; Interleaved keeps each input's
 * tracks together under the input's name; TopBitrate keeps the best video with its audio, under its input's name.
 */
function planConversion(spec: EncodeSpec, sources: PlanSource[], options: PlanOptions, names: NameRegistry): PlanResult {
  const clip = resolveClip(options.clip, Math.max(...sources.map((s) => s.info.durationSec)));
  const inputs: PlannedInput[] = sources.map((s) => ({ url: s.input.url, ...clip.input }));
  const common = commonBasename(sources.map((s) => s.input.fileName));
  const copyOf = (i: number, v: SourceVideo): CopyTrack => ({
    kind: 'copy',
    media: 'video',
    inputIndex: i,
    streamIndex: v.streamIndex,
    bitrateBps: v.bitrateBps ?? 0,
    codec: v.codec,
    width: v.displayWidth,
    height: v.displayHeight,
  });
  const copyOfAudio = (i: number, a: SourceAudio): CopyTrack => ({
    kind: 'copy',
    media: 'audio',
    inputIndex: i,
    streamIndex: a.streamIndex,
    bitrateBps: a.bitrateBps ?? 128_000,
    codec: a.codec,
    channels: a.channels,
    ...(a.language ? { language: a.language } : {}),
  });
  const mp4: Mp4OutputPlan[] = [];
  if (spec.convert === 'CopyTopBitrateInterleaved') {
    const top = pickVideo(sources, 'bitrate');
    const tracks: CopyTrack[] = [];
    if (top) tracks.push(copyOf(top.sourceIndex, top.video));
    const ownAudio = top ? sources[top.sourceIndex].info.audios : [];
    if (top && ownAudio.length > 0) tracks.push(...ownAudio.map((a) => copyOfAudio(top.sourceIndex, a)));
    else tracks.push(...distinctAudio(sources.flatMap((s, i) => (s.info.video ? [] : s.info.audios.map((a) => copyOfAudio(i, a))))));
    const owner = sources[top?.sourceIndex ?? 0];
    mp4.push({ name: names.unique(`${basenameOf(owner.input.fileName)}.mp4`), tracks });
  } else if (spec.convert === 'CopyAllBitrateInterleaved') {
    sources.forEach((s, i) => {
      const tracks = [...s.info.videos.map((v) => copyOf(i, v)), ...s.info.audios.map((a) => copyOfAudio(i, a))];
      if (tracks.length > 0) mp4.push({ name: names.unique(`${basenameOf(s.input.fileName)}.mp4`), tracks });
    });
  } else {
    // A single-track input (an AMS rendition) keeps its name; tracks split out of an interleaved file get ladder names.
    const nameOf = (t: CopyTrack): string => {
      const s = sources[t.inputIndex];
      return s.info.videos.length + s.info.audios.length === 1 ? `${basenameOf(s.input.fileName)}.mp4` : builtinName(common, t);
    };
    for (const [i, s] of sources.entries())
      for (const v of s.info.videos) {
        const t = copyOf(i, v);
        mp4.push({ name: names.unique(nameOf(t)), tracks: [t] });
      }
    for (const track of distinctAudio(sources.flatMap((s, i) => s.info.audios.map((a) => copyOfAudio(i, a)))))
      mp4.push({ name: names.unique(nameOf(track)), tracks: [track] });
  }
  return {
    inputs,
    mp4,
    images: [],
    manifest: { name: names.unique(`${common}.ism`), tracks: manifestTracks(mp4) },
    durationSec: clip.outDurationSec,
    renamed: names.renamed,
  };
}

/**
 * The name an asset's renditions share (`movie` for `movie_1280x720_3400.mp4` and `movie_AACAudio_128.mp4`),
 * used for the converter's `.ism` and split tracks; the first input's name when they share nothing.
 */
export function commonBasename(fileNames: string[]): string {
  const bases = fileNames.map(basenameOf);
  let prefix = bases[0];
  for (const b of bases.slice(1)) while (!b.startsWith(prefix)) prefix = prefix.slice(0, -1);
  if (bases.length > 1 && bases.some((b) => b !== prefix)) prefix = prefix.replace(/[_.-]+$/, '');
  return prefix || bases[0];
}

/** Audio tracks that differ in codec, language, channels or bitrate (±5 %). */
function distinctAudio<T extends CopyTrack | { track: CopyTrack }>(list: T[]): T[] {
  const out: T[] = [];
  const trackOf = (x: T): CopyTrack => ('track' in x ? x.track : x);
  for (const x of list) {
    const t = trackOf(x);
    const dup = out.some((o) => {
      const u = trackOf(o);
      return (
        u.codec === t.codec &&
        u.language === t.language &&
        u.channels === t.channels &&
        Math.abs(u.bitrateBps - t.bitrateBps) <= 0.05 * Math.max(u.bitrateBps, t.bitrateBps)
      );
    });
    if (!dup) out.push(x);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- inputs

/** The video to encode from: the largest picture across inputs (then the highest bitrate). */
function pickVideo(sources: PlanSource[], by: 'pixels' | 'bitrate' = 'pixels'): { sourceIndex: number; video: SourceVideo } | undefined {
  let best: { sourceIndex: number; video: SourceVideo } | undefined;
  const score = (v: SourceVideo): [number, number] => {
    const pixels = v.displayWidth * v.displayHeight;
    return by === 'pixels' ? [pixels, v.bitrateBps ?? 0] : [v.bitrateBps ?? 0, pixels];
  };
  sources.forEach((s, i) => {
    const v = s.info.video;
    if (!v) return;
    if (!best) {
      best = { sourceIndex: i, video: v };
      return;
    }
    const [a1, a2] = score(v);
    const [b1, b2] = score(best.video);
    if (a1 > b1 || (a1 === b1 && a2 > b2)) best = { sourceIndex: i, video: v };
  });
  return best;
}

/** The audio to encode from: the first audio track of the video's input, else of the first input that has one. */
function pickAudio(sources: PlanSource[], preferred: number | undefined): { sourceIndex: number; audio: SourceAudio } | undefined {
  if (preferred !== undefined && sources[preferred].info.audios[0]) return { sourceIndex: preferred, audio: sources[preferred].info.audios[0] };
  const i = sources.findIndex((s) => s.info.audios.length > 0);
  return i < 0 ? undefined : { sourceIndex: i, audio: sources[i].info.audios[0] };
}

/** Clip times (JobInputAsset start/end) as input seeking, checked against the input's length. */
export function resolveClip(
  clip: PlanOptions['clip'],
  sourceDurationSec: number,
): { input: { seekSec?: number; durationSec?: number }; outDurationSec: number } {
  const start = Math.max(0, clip?.startSec ?? 0);
  const end = clip?.endSec;
  if (sourceDurationSec > 0 && start >= sourceDurationSec) {
    throw new EncodeError(
      'ConfigurationUnsupported',
      `The clip starts at ${formatSec(start)}, at or after the end of the input (${formatSec(sourceDurationSec)})`,
    );
  }
  if (end !== undefined && end <= start)
    throw new EncodeError('ConfigurationUnsupported', `The clip ends (${formatSec(end)}) before it starts (${formatSec(start)})`);
  const stop = end !== undefined && sourceDurationSec > 0 ? Math.min(end, sourceDurationSec) : (end ?? sourceDurationSec);
  return {
    input: { ...(start > 0 ? { seekSec: start } : {}), ...(end !== undefined ? { durationSec: end - start } : {}) },
    outDurationSec: Math.max(0, stop - start),
  };
}

/** Output names made unique within one job: a repeat gets `_2`, `_3`… before its extension. */
class NameRegistry {
  readonly used = new Set<string>();
  readonly renamed: string[] = [];

  unique(name: string): string {
    if (!this.used.has(name.toLowerCase())) {
      this.used.add(name.toLowerCase());
      return name;
    }
    this.renamed.push(name);
    for (let n = 2; ; n++) {
      const candidate = name.replace(/(\.[^.]+)?$/, (ext) => `_${n}${ext}`);
      if (!this.used.has(candidate.toLowerCase())) {
        this.used.add(candidate.toLowerCase());
        return candidate;
      }
    }
  }

  /** Names of one image series share one suffix, so they still match a single ffmpeg image2 pattern. */
  uniqueGroup(list: string[]): { names: string[]; suffix: string } {
    const clash = (suffix: string) => list.some((n) => this.used.has(withSuffix(n, suffix).toLowerCase()));
    let suffix = '';
    if (clash('')) {
      this.renamed.push(list[0]);
      let n = 2;
      while (clash(`_${n}`)) n++;
      suffix = `_${n}`;
    }
    const names = list.map((n) => withSuffix(n, suffix));
    for (const n of names) this.used.add(n.toLowerCase());
    return { names, suffix };
  }
}

const withSuffix = (name: string, suffix: string): string => (suffix ? name.replace(/(\.[^.]+)?$/, (ext) => `${suffix}${ext}`) : name);

import { assetConverterTypes, converterSpec, parseAssetConverterPreset } from './asset-converter-preset.js';
import { builtInEncoderType, parseBuiltInEncoderPreset } from './builtin-presets.js';
import type { EncodeSpec } from '../plan/encode-spec.js';
import { FieldReader } from './field-reader.js';
import { parseStandardEncoderPreset, standardEncoderType } from './standard-encoder-preset.js';
import { parseThumbnailGeneratorPreset, thumbnailGeneratorType } from './thumbnail-generator-preset.js';

/** Preset types MK.IO or AMS define that Reel recognises but does not run. */
const knownUnsupported: Record<string, string> = {
  '#MediaKind.TrackInserterPreset': 'adding a track to an existing asset',
  '#MediaKind.AIPipelinePreset': 'transcription pipelines',
  '#MediaKind.EncoderPreset': 'the MediaKind encoder hook',
  '#Microsoft.Media.AudioAnalyzerPreset': 'audio analysis',
  '#Microsoft.Media.VideoAnalyzerPreset': 'video analysis',
  '#Microsoft.Media.FaceDetectorPreset': 'face detection',
};

/** The supported preset's normalised spec, or the problems that make it unsupported (never both). */
export type ParsedPreset = { spec: EncodeSpec; problems: [] } | { spec?: undefined; problems: string[] };

/** Reads a transform output's `preset` (MK.IO wire shape, discriminated by `@odata.type`). */
export function parsePreset(preset: Record<string, unknown>): ParsedPreset {
  const r = new FieldReader();
  if (typeof preset !== 'object' || preset === null || Array.isArray(preset)) return { problems: ['preset must be an object'] };
  const type = preset['@odata.type'];
  let spec: EncodeSpec | undefined;
  if (typeof type !== 'string') {
    r.problem('preset.@odata.type is required (e.g. #Microsoft.Media.BuiltInStandardEncoderPreset)');
  } else if (type === builtInEncoderType) {
    spec = parseBuiltInEncoderPreset(preset, r, converterSpec);
  } else if (assetConverterTypes.includes(type)) {
    spec = parseAssetConverterPreset(preset, r);
  } else if (type === standardEncoderType) {
    spec = parseStandardEncoderPreset(preset, r);
  } else if (type === thumbnailGeneratorType) {
    spec = parseThumbnailGeneratorPreset(preset, r);
  } else if (knownUnsupported[type]) {
    r.problem(`${type} (${knownUnsupported[type]}) is not supported by Reel`);
  } else {
    r.problem(
      `preset type '${type}' is not supported by Reel (supported: ${builtInEncoderType}, ${assetConverterTypes[0]}, ${standardEncoderType}, ${thumbnailGeneratorType})`,
    );
  }
  if (r.problems.length > 0) return { problems: r.problems };
  if (!spec) return { problems: ['the preset produces no output'] };
  return { spec, problems: [] };
}

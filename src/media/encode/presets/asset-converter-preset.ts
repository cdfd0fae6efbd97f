import { defaultFilters, type ConverterMode, type EncodeSpec } from '../plan/encode-spec.js';
import type { FieldReader } from './field-reader.js';

export const assetConverterTypes = ['#Microsoft.Media.BuiltInAssetConverterPreset', '#MediaKind.BuiltInAssetConverterPreset'];

/** Both spellings: the MK.IO OpenAPI says `CopyAllBitrate…`, its docs page `CopyAllBitrates…` (MKIO-API §9.1). */
const names: Record<string, ConverterMode> = {
  copytopbitrateinterleaved: 'CopyTopBitrateInterleaved',
  copyallbitrateinterleaved: 'CopyAllBitrateInterleaved',
  copyallbitratesinterleaved: 'CopyAllBitrateInterleaved',
  copyallbitratenoninterleaved: 'CopyAllBitrateNonInterleaved',
  copyallbitratesnoninterleaved: 'CopyAllBitrateNonInterleaved',
};

/** The converter spec for a preset name, or undefined when the name is not a converter name. */
export function converterSpec(name: string): EncodeSpec | undefined {
  const mode = names[name.toLowerCase()];
  if (!mode) return undefined;
  return { video: [], isNoUpscale: false, audio: [], images: [], convert: mode, filters: defaultFilters(), mp4Naming: { kind: 'builtin' } };
}

/**
 * BuiltInAssetConverterPreset: remux without re-encoding (`-c copy`) into MP4s plus a `.ism`. The `.mpi`
 * index and `.mpd` files MediaKind's converter also wrote are not needed by Reel's origin and are not written.
 */
export function parseAssetConverterPreset(preset: Record<string, unknown>, r: FieldReader): EncodeSpec | undefined {
  r.onlyKnown(preset, 'preset', ['presetName']);
  const name = r.string(preset, 'presetName', 'preset', { required: true });
  if (name === undefined) return undefined;
  const spec = converterSpec(name);
  if (!spec)
    r.problem(
      `BuiltInAssetConverterPreset '${name}' is not supported by Reel (supported: CopyTopBitrateInterleaved, CopyAllBitrateNonInterleaved, CopyAllBitrateInterleaved)`,
    );
  return spec;
}

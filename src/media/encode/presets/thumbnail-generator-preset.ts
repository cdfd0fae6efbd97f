import { defaultFilters, type EncodeSpec, type ImageSpec } from '../plan/encode-spec.js';
import type { FieldReader } from './field-reader.js';
import { parseTimeSpec, type TimeSpec } from './time-spec.js';

export const thumbnailGeneratorType = '#MediaKind.ThumbnailGeneratorPreset';

/**
 * MK.IO ThumbnailGeneratorPreset (MKIO-API §9.2). Positions follow AMS `Image` semantics: `start` defaults to
 * PT10S, `range` to `"1"` (one image), `step` to AMS's 10% when a range asks for several. Names are
 * `{baseFilename}_{label}{index}{ext}` with {index} from 1; a sprite is `{baseFilename}_{label}.jpg` with
 * `{baseFilename}_{label}.vtt` beside it (`{baseFilename}` defaults to the input's base name).
 */
export function parseThumbnailGeneratorPreset(preset: Record<string, unknown>, r: FieldReader): EncodeSpec | undefined {
  r.onlyKnown(preset, 'preset', ['baseFilename', 'thumbnails']);
  const baseFilename = r.string(preset, 'baseFilename', 'preset', { pattern: /^[A-Za-z0-9_-]{1,64}$/ });
  const thumbnails = r.array(preset, 'thumbnails', 'preset', { required: true, minItems: 1 });
  if (!thumbnails) return undefined;
  const images: ImageSpec[] = [];
  const labels = new Set<string>();
  thumbnails.forEach((t, i) => {
    const path = `preset.thumbnails[${i}]`;
    r.onlyKnown(t, path, ['format', 'start', 'step', 'range', 'width', 'height', 'quality', 'label', 'spriteColumn']);
    const format = r.enumValue(t, 'format', path, ['Jpeg', 'Png'] as const);
    if (t.format === undefined) r.problem(`${path}.format is required (Jpeg or Png)`);
    const start = position(t, 'start', path, r, 'PT10S');
    const step = position(t, 'step', path, r, '10%');
    // A plain number is a count of images here ("range": "5" with a 5 s step gives five images, as MK.IO's
    // example means), where AMS's JpgImage read it as a frame count; durations and percentages are as in AMS.
    const rawRange = t.range ?? '1';
    const rangeCount = typeof rawRange === 'number' || (typeof rawRange === 'string' && /^\d+$/.test(rawRange.trim())) ? Number(rawRange) : undefined;
    if (rangeCount !== undefined && (!Number.isInteger(rangeCount) || rangeCount < 1))
      r.problem(`${path}.range must be at least 1 image (got ${JSON.stringify(rawRange)})`);
    const range = rangeCount !== undefined ? ({ kind: 'percent', percent: 100 } as const) : position(t, 'range', path, r, '1');
    const width = r.dimension(t, 'width', path);
    const height = r.dimension(t, 'height', path);
    const quality = r.integer(t, 'quality', path, { min: 0, max: 100 }) ?? 70;
    const label = r.string(t, 'label', path, { maxLength: 64 });
    const spriteColumns = r.integer(t, 'spriteColumn', path, { min: 1, max: 10 });
    if (labels.has(label ?? '')) r.problem(`${path}.label '${label ?? ''}' is used by another thumbnail: output names would collide`);
    labels.add(label ?? '');
    if (step?.kind === 'frames' && step.frames === 0) r.problem(`${path}.step must not be zero`);
    if (!format || !start || !step || !range) return;
    images.push({
      format: format === 'Jpeg' ? 'jpg' : 'png',
      start,
      step,
      range,
      ...(rangeCount !== undefined ? { rangeCount } : {}),
      layers: [{ ...(width ? { width } : {}), ...(height ? { height } : {}), quality, ...(label ? { label } : {}) }],
      stretchMode: 'AutoSize',
      ...(spriteColumns ? { spriteColumns } : {}),
      naming: { kind: 'thumbnail-generator', ...(baseFilename ? { baseFilename } : {}) },
    });
  });
  return { video: [], isNoUpscale: false, audio: [], images, filters: defaultFilters(), mp4Naming: { kind: 'builtin' } };
}

function position(obj: Record<string, unknown>, key: string, path: string, r: FieldReader, fallback: string): TimeSpec | undefined {
  const raw = obj[key] ?? fallback;
  const spec = parseTimeSpec(raw);
  if (!spec) r.problem(`${path}.${key} must be an ISO 8601 duration (PT5S), a frame number ("30") or a percentage ("10%") (got ${JSON.stringify(raw)})`);
  return spec;
}

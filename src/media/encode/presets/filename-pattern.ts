/**
 * AMS `filenamePattern` macros ({Basename}, {Label}, {Bitrate}, {Codec}, {Resolution}, {Index},
 * {AudioStream}, {Extension}) and the `{Basename}` rule every output name uses.
 */

/** The macro values known for one output file; a missing value collapses its macro. */
export interface FilenameValues {
  basename: string;
  extension: string;
  label?: string;
  bitrateKbps?: number;
  codec?: string;
  /** `1280x720`. */
  resolution?: string;
  /**
   * Index of a thumbnail, already formatted (`000001`), inserted as is: the planner passes ffmpeg's image2
   * placeholder (`%06d`) here, which is safe because every other `%` is replaced by `_`.
   */
  index?: string;
  audioStream?: number;
}

export const filenameMacros = ['Basename', 'Label', 'Bitrate', 'Codec', 'Resolution', 'Index', 'AudioStream', 'Extension'] as const;

const macroPattern = /\{([A-Za-z]+)\}/g;

/**
 * The input file name without its extension, reduced to `[A-Za-z0-9_.-]` so it is a safe blob name, and cut
 * to 32 characters as AMS did for `{Basename}` (long camera names stay readable in every output name).
 */
export function basenameOf(fileName: string): string {
  const last = fileName.split(/[/\\]/).pop() ?? '';
  const dot = last.lastIndexOf('.');
  const stem = dot > 0 ? last.slice(0, dot) : last;
  const safe = stem.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32);
  return safe.replace(/^[.]+/, '') || 'input';
}

/** Macro names in a pattern that AMS does not define (reported by validatePreset). */
export function unknownMacros(pattern: string): string[] {
  const known = new Set<string>(filenameMacros.map((m) => m.toLowerCase()));
  return [...pattern.matchAll(macroPattern)].map((m) => m[1]).filter((name) => !known.has(name.toLowerCase()));
}

/**
 * Expands a pattern. AMS: "any unsubstituted macros will be collapsed and removed from the filename"; a
 * separator left dangling by a removed macro goes with it (`{Basename}_{Resolution}_{Bitrate}` for audio gives
 * `clip_128`, not `clip__128`). Characters outside `[A-Za-z0-9_.-]` become `_` so the result is a flat blob name.
 */
export function expandFilenamePattern(pattern: string, values: FilenameValues): string {
  const valueOf = (macro: string): string | undefined => {
    switch (macro.toLowerCase()) {
      case 'basename':
        return values.basename;
      case 'extension':
        return values.extension;
      case 'label':
        return values.label || undefined;
      case 'bitrate':
        return values.bitrateKbps !== undefined ? String(Math.round(values.bitrateKbps)) : undefined;
      case 'codec':
        return values.codec;
      case 'resolution':
        return values.resolution;
      case 'index':
        return values.index;
      case 'audiostream':
        return values.audioStream !== undefined ? `Audio${values.audioStream}` : undefined;
      default:
        return undefined;
    }
  };
  let out = '';
  let dropNextSeparator = false;
  let last = 0;
  for (const m of pattern.matchAll(macroPattern)) {
    out += literal(pattern.slice(last, m.index), dropNextSeparator);
    dropNextSeparator = false;
    last = (m.index ?? 0) + m[0].length;
    const value = valueOf(m[1]);
    if (value !== undefined && value !== '') {
      out += m[1].toLowerCase() === 'index' ? value : sanitize(value);
    } else if (/[_-]$/.test(out)) {
      // `a_{X}_b` → `a_b`: drop the separator before the removed macro when one follows it, or when the name ends.
      const rest = pattern.slice(last);
      if (/^[_-]/.test(rest)) dropNextSeparator = true;
      else if (rest === '' || rest.startsWith('{Extension}') || rest.startsWith('.')) out = out.slice(0, -1);
    } else if (out === '') {
      dropNextSeparator = true;
    }
  }
  out += literal(pattern.slice(last), dropNextSeparator);
  return out;
}

function literal(text: string, dropLeadingSeparator: boolean): string {
  return sanitize(dropLeadingSeparator ? text.replace(/^[_-]/, '') : text);
}

/** Any text made a safe part of a flat blob name (`[A-Za-z0-9_.-]`). */
export function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_');
}

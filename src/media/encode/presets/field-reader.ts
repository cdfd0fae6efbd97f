import type { Dimension } from '../plan/encode-spec.js';
import { parseIsoDurationSec } from '../../../shared/time.js';

/**
 * Small readers for preset fields that collect human-readable problems instead of throwing, so
 * validatePreset can report every mistake of a transform at once. Paths are written as in the JSON body
 * (`codecs[0].layers[1].bitrate`).
 */
export class FieldReader {
  readonly problems: string[] = [];

  problem(message: string): void {
    this.problems.push(message);
  }

  /** Reports properties the shape does not define (a misspelt field would otherwise be silently ignored). */
  onlyKnown(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (key !== '@odata.type' && !known.includes(key)) this.problem(`${path}.${key} is not a known property (expected one of: ${known.join(', ')})`);
    }
  }

  string(
    obj: Record<string, unknown>,
    key: string,
    path: string,
    options: { required?: boolean; pattern?: RegExp; maxLength?: number } = {},
  ): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (options.required) this.problem(`${path}.${key} is required`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.problem(`${path}.${key} must be a string`);
      return undefined;
    }
    if (options.maxLength !== undefined && v.length > options.maxLength) {
      this.problem(`${path}.${key} must be at most ${options.maxLength} characters`);
      return undefined;
    }
    if (options.pattern && !options.pattern.test(v)) {
      this.problem(`${path}.${key} '${v}' must match ${options.pattern.source}`);
      return undefined;
    }
    return v;
  }

  enumValue<T extends string>(obj: Record<string, unknown>, key: string, path: string, values: readonly T[]): T | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const match = typeof v === 'string' ? values.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
    if (!match) this.problem(`${path}.${key} must be one of ${values.join(', ')} (got ${JSON.stringify(v)})`);
    return match;
  }

  integer(
    obj: Record<string, unknown>,
    key: string,
    path: string,
    options: { required?: boolean; min?: number; max?: number; unit?: string } = {},
  ): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (options.required) this.problem(`${path}.${key} is required${options.unit ? ` (${options.unit})` : ''}`);
      return undefined;
    }
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    const range = `${options.min ?? '-∞'}–${options.max ?? '∞'}`;
    if (typeof n !== 'number' || !Number.isInteger(n) || (options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
      this.problem(`${path}.${key} must be an integer in ${range}${options.unit ? ` (${options.unit})` : ''} (got ${JSON.stringify(v)})`);
      return undefined;
    }
    return n;
  }

  number(obj: Record<string, unknown>, key: string, path: string, options: { min?: number; max?: number } = {}): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (options.min !== undefined && v < options.min) || (options.max !== undefined && v > options.max)) {
      this.problem(`${path}.${key} must be a number in ${options.min ?? '-∞'}–${options.max ?? '∞'} (got ${JSON.stringify(v)})`);
      return undefined;
    }
    return v;
  }

  boolean(obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.problem(`${path}.${key} must be true or false`);
      return undefined;
    }
    return v;
  }

  /** An ISO 8601 duration within [min, max] seconds. */
  duration(obj: Record<string, unknown>, key: string, path: string, options: { min: number; max: number }): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const sec = typeof v === 'string' ? parseIsoDurationSec(v) : undefined;
    if (sec === undefined || sec < options.min || sec > options.max) {
      this.problem(`${path}.${key} must be an ISO 8601 duration between ${options.min} and ${options.max} seconds, e.g. PT2S (got ${JSON.stringify(v)})`);
      return undefined;
    }
    return sec;
  }

  /** Pixels (`"1280"`, 1280) or a percentage of the input (`"50%"`). */
  dimension(obj: Record<string, unknown>, key: string, path: string): Dimension | undefined {
    const v = obj[key];
    if (v === undefined || v === null || v === '') return undefined;
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
    const px = /^\d+$/.exec(text);
    if (px && Number(text) >= 2 && Number(text) <= 8192) return { px: Number(text) };
    const pc = /^(\d+(?:\.\d+)?)%$/.exec(text);
    if (pc && Number(pc[1]) > 0 && Number(pc[1]) <= 100) return { percent: Number(pc[1]) };
    this.problem(`${path}.${key} must be pixels (2–8192) or a percentage up to 100% such as "50%" (got ${JSON.stringify(v)})`);
    return undefined;
  }

  /** An object field, or undefined (with a problem when it is something else). */
  object(obj: Record<string, unknown>, key: string, path: string, options: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (options.required) this.problem(`${path}.${key} is required`);
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problem(`${path}.${key} must be an object`);
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  array(
    obj: Record<string, unknown>,
    key: string,
    path: string,
    options: { required?: boolean; minItems?: number } = {},
  ): Record<string, unknown>[] | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (options.required) this.problem(`${path}.${key} is required`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.problem(`${path}.${key} must be an array`);
      return undefined;
    }
    if (options.minItems !== undefined && v.length < options.minItems) {
      this.problem(`${path}.${key} must have at least ${options.minItems} item(s)`);
      return undefined;
    }
    const bad = v.findIndex((item) => typeof item !== 'object' || item === null || Array.isArray(item));
    if (bad >= 0) {
      this.problem(`${path}.${key}[${bad}] must be an object`);
      return undefined;
    }
    return v as Record<string, unknown>[];
  }
}

// What MK.IO's official .NET client (Newtonsoft.Json with its `ConverterLE.Settings`) would fail on when it
// deserializes a response into one of its model classes. The model types come from
// test/fixtures/mkio-dotnet/models.json (extracted from the client's C# sources, see the README there).
//
// Emulated behaviour (Newtonsoft.Json 13 defaults plus the client's settings):
// - Unknown JSON properties are ignored; property names match case-insensitively. Getter-only properties are
//   skipped. Members with `Required = …` must be present / non-null (none exist at the extracted commit).
// - `null` is accepted for reference types and `T?`, refused for non-nullable value types (int, bool, Guid,
//   DateTime, TimeSpan, enums).
// - string: any JSON primitive (numbers and booleans are converted); objects and arrays fail.
// - Guid: a string in one of .NET's Guid formats (D, N, B, P).
// - DateTime (the client's CustomDateTimeConverter): for `DateTime`, the JSON reader must already have
//   recognised an ISO 8601 date string (`yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh:mm]`), otherwise the converter's cast
//   fails; for `DateTime?`, any string `DateTime.Parse` reads (approximated as ISO-like date, optional time).
// - TimeSpan (CustomTimeSpanConverter): an xs:duration string (`PT1H30M`, `P1DT2S`).
// - Integers: JSON integers (and floats, which are rounded) within the type's range, or numeric strings.
//   Floating point: numbers or numeric strings. bool: true/false, numbers, or the strings "true"/"false".
// - Enums (StringEnumConverter): a wire value (exact, then case-insensitive), or an integer.
// - List<T>: a JSON array; Dictionary<T>: a JSON object; classes: a JSON object.
// - Polymorphic bases (JsonSubtypes on `@odata.type`): the value must name a known subtype. JsonSubtypes
//   itself falls back to the (empty) base class for an unknown or missing value; the client then holds an
//   object without any of the data, so this is reported as an error too.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ModelClass {
  base?: string;
  subtypes?: { property: string; values: Record<string, string> };
  properties: Record<string, string>;
  required?: string[];
}

interface Models {
  source: { repository: string; commit: string };
  classes: Record<string, ModelClass>;
  enums: Record<string, string[] | { values: string[]; serializedAs: 'number' }>;
}

const MODELS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'mkio-dotnet', 'models.json');
let loaded: Models | undefined;

export function dotnetModels(): Models {
  loaded ??= JSON.parse(fs.readFileSync(MODELS_FILE, 'utf8')) as Models;
  return loaded;
}

export function hasDotnetModel(name: string): boolean {
  return Object.hasOwn(dotnetModels().classes, name);
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  short: [-(2n ** 15n), 2n ** 15n - 1n],
  int: [-(2n ** 31n), 2n ** 31n - 1n],
  uint: [0n, 2n ** 32n - 1n],
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  ulong: [0n, 2n ** 64n - 1n],
};

const GUID = [
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^[0-9a-f]{32}$/i,
  /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i,
  /^\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$/i,
];
/** What Newtonsoft's JSON reader turns into a DateTime token (DateParseHandling.DateTime). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;
/** What DateTime.Parse reads, approximately: a date, optionally a time with `T` or a space, optionally a zone. */
const LOOSE_DATE = /^\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2}|GMT|UTC)?$/i;
const DURATION = /^-?P(?!$)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

function validDate(s: string): boolean {
  const m = s.match(/^(\d{4})-(\d{1,2})-(\d{1,2})/);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate() && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

function integerValue(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.round(value));
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

/** A class's properties including inherited ones, keyed by lower-case JSON name. */
function propertiesOf(models: Models, name: string): Map<string, { json: string; type: string }> {
  const chain: ModelClass[] = [];
  for (let c: string | undefined = name; c && models.classes[c]; c = models.classes[c].base) chain.unshift(models.classes[c]);
  const props = new Map<string, { json: string; type: string }>();
  for (const cls of chain) for (const [json, type] of Object.entries(cls.properties)) props.set(json.toLowerCase(), { json, type });
  return props;
}

class Checker {
  readonly errors: string[] = [];
  constructor(private readonly models: Models) {}

  private fail(at: string, message: string): void {
    this.errors.push(`${at}: ${message}`);
  }

  private propertiesOf(name: string): Map<string, { json: string; type: string }> {
    return propertiesOf(this.models, name);
  }

  private requiredOf(name: string): string[] {
    const req: string[] = [];
    for (let c: string | undefined = name; c && this.models.classes[c]; c = this.models.classes[c].base) req.push(...(this.models.classes[c].required ?? []));
    return req;
  }

  check(typeExpr: string, value: unknown, at: string): void {
    if (typeExpr.endsWith(' readonly')) return; // Newtonsoft skips getter-only properties when reading
    const nullable = typeExpr.endsWith('?');
    const type = nullable ? typeExpr.slice(0, -1) : typeExpr;
    if (value === null || value === undefined) {
      if (!nullable) this.fail(at, `null cannot be converted to the non-nullable ${type}`);
      return;
    }
    const list = type.match(/^List<(.+)>$/);
    if (list) {
      if (!Array.isArray(value)) return this.fail(at, `expected a JSON array for ${type}, got ${describe(value)}`);
      value.forEach((item, i) => this.check(list[1], item, `${at}[${i}]`));
      return;
    }
    const dict = type.match(/^Dictionary<(.+)>$/);
    if (dict) {
      if (typeof value !== 'object' || Array.isArray(value)) return this.fail(at, `expected a JSON object for ${type}, got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) this.check(dict[1], v, `${at}.${k}`);
      return;
    }
    switch (type) {
      case 'any':
        return;
      case 'string':
        if (typeof value === 'object') this.fail(at, `expected a string, got ${describe(value)}`);
        return;
      case 'bytes':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
          this.fail(at, `${describe(value)} is not base64 (byte[])`);
        return;
      case 'Guid':
        if (typeof value !== 'string' || !GUID.some((re) => re.test(value))) this.fail(at, `${describe(value)} is not a Guid`);
        return;
      case 'DateTime':
        if (typeof value !== 'string') return this.fail(at, `${describe(value)} is not a DateTime string`);
        if (nullable ? !LOOSE_DATE.test(value.trim()) || !validDate(value.trim()) : !ISO_DATE.test(value) || !validDate(value)) {
          this.fail(at, `${describe(value)} is not a DateTime the client can read (${nullable ? 'DateTime.Parse' : 'ISO 8601 with T'})`);
        }
        return;
      case 'TimeSpan':
        if (typeof value !== 'string' || !DURATION.test(value)) this.fail(at, `${describe(value)} is not an ISO 8601 duration (TimeSpan)`);
        return;
      case 'bool':
        if (typeof value === 'boolean' || typeof value === 'number') return;
        if (typeof value === 'string' && /^\s*(true|false)\s*$/i.test(value)) return;
        if (typeof value === 'string' && value === '' && nullable) return;
        this.fail(at, `${describe(value)} is not a bool`);
        return;
      case 'double':
      case 'decimal':
        if (typeof value === 'number') return;
        if (typeof value === 'string' && (NUMERIC.test(value) || (value === '' && nullable))) return;
        this.fail(at, `${describe(value)} is not a number (${type})`);
        return;
    }
    const range = INT_RANGES[type];
    if (range) {
      if (typeof value === 'string' && value === '' && nullable) return;
      if (typeof value !== 'number' && typeof value !== 'string') return this.fail(at, `${describe(value)} is not an integer (${type})`);
      const n = integerValue(value);
      if (n === undefined) return this.fail(at, `${describe(value)} is not an integer (${type})`);
      if (n < range[0] || n > range[1]) this.fail(at, `${describe(value)} overflows ${type}`);
      return;
    }
    const enumDef = this.models.enums[type];
    if (enumDef) {
      const values = Array.isArray(enumDef) ? enumDef : enumDef.values;
      if (typeof value === 'number' && Number.isInteger(value)) return;
      if (typeof value !== 'string') return this.fail(at, `${describe(value)} is not a value of enum ${type}`);
      if (value === '' && nullable) return;
      const v = value.trim();
      if (values.includes(v) || values.some((w) => w.toLowerCase() === v.toLowerCase()) || /^[+-]?\d+$/.test(v)) return;
      this.fail(at, `${describe(value)} is not a value of enum ${type} (${values.join(', ')})`);
      return;
    }
    if (this.models.classes[type]) return this.checkObject(type, value, at);
    this.fail(at, `type ${type} is not in models.json`);
  }

  checkObject(name: string, value: unknown, at: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(at, `expected a JSON object for ${name}, got ${describe(value)}`);
    const obj = value as Record<string, unknown>;
    let actual = name;
    const cls = this.models.classes[name];
    if (cls.subtypes) {
      const key = Object.keys(obj).find((k) => k.toLowerCase() === cls.subtypes!.property.toLowerCase());
      const tag = key === undefined ? undefined : obj[key];
      const sub = typeof tag === 'string' ? cls.subtypes.values[tag] : undefined;
      if (!sub) {
        const known = Object.keys(cls.subtypes.values).join(', ');
        return this.fail(at, `${cls.subtypes.property} ${tag === undefined ? 'is missing' : `${describe(tag)} is unknown`} for ${name} (known: ${known})`);
      }
      actual = sub;
    }
    const props = this.propertiesOf(actual);
    for (const [k, v] of Object.entries(obj)) {
      const prop = props.get(k.toLowerCase());
      if (prop) this.check(prop.type, v, `${at}.${k}`);
    }
    for (const r of this.requiredOf(actual)) {
      const [json, mode] = r.split(':') as [string, string];
      const key = Object.keys(obj).find((k) => k.toLowerCase() === json.toLowerCase());
      if (key === undefined && mode !== 'DisallowNull') this.fail(at, `required member ${json} is missing (${actual})`);
      else if (key !== undefined && obj[key] === null && mode !== 'AllowNull') this.fail(`${at}.${json}`, `required member ${json} is null (${actual})`);
    }
  }
}

/**
 * The errors Newtonsoft.Json with the .NET client's settings would raise (or the silent data loss it would
 * cause, for polymorphic bases) when deserializing `json` (already parsed) into the client's class
 * `modelName`. Empty when the client reads it fine. A `null`/missing body fails, as the client throws on it.
 */
export function dotnetDeserializationErrors(modelName: string, json: unknown): string[] {
  const models = dotnetModels();
  if (!models.classes[modelName]) throw new Error(`unknown .NET client model ${modelName} (not in test/fixtures/mkio-dotnet/models.json)`);
  const checker = new Checker(models);
  if (json === null || json === undefined) return [`$: the body is empty or null; the client throws on a null ${modelName}`];
  checker.checkObject(modelName, json, '$');
  return checker.errors;
}

/** The client's DateTime writer: `ToString("yyyy-MM-ddTHH:mm:ss.ffZ")` (two fraction digits, a literal Z). */
function dotnetDateTime(value: string): string {
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return d.toISOString().replace(/\.(\d\d)\dZ$/, '.$1Z');
}

function reserialize(models: Models, typeExpr: string, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  const type = typeExpr.replace(/ readonly$/, '').replace(/\?$/, '');
  const list = type.match(/^List<(.+)>$/);
  if (list) return (value as unknown[]).map((v) => reserialize(models, list[1], v) ?? null);
  const dict = type.match(/^Dictionary<(.+)>$/);
  if (dict) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reserialize(models, dict[1], v) ?? null]));
  switch (type) {
    case 'any':
    case 'bytes':
    case 'TimeSpan':
      return value;
    case 'string':
      return String(value);
    case 'Guid':
      return String(value)
        .replace(/[{}()]/g, '')
        .toLowerCase();
    case 'DateTime':
      return dotnetDateTime(String(value));
    case 'bool':
      return typeof value === 'string' ? value.trim().toLowerCase() === 'true' : Boolean(value);
  }
  if (INT_RANGES[type] || type === 'double' || type === 'decimal') return Number(value);
  const enumDef = models.enums[type];
  if (enumDef) {
    const values = Array.isArray(enumDef) ? enumDef : enumDef.values;
    if (typeof value === 'number') return values[value] ?? value;
    return values.find((w) => w.toLowerCase() === String(value).trim().toLowerCase()) ?? value;
  }
  const cls = models.classes[type];
  if (!cls) return value;
  const obj = value as Record<string, unknown>;
  let actual = type;
  if (cls.subtypes) {
    const key = Object.keys(obj).find((k) => k.toLowerCase() === cls.subtypes!.property.toLowerCase());
    actual = (key && cls.subtypes.values[String(obj[key])]) || type;
  }
  const out: Record<string, unknown> = {};
  for (const { json, type: t } of propertiesOf(models, actual).values()) {
    const key = Object.keys(obj).find((k) => k.toLowerCase() === json.toLowerCase());
    const v = key === undefined ? undefined : reserialize(models, t, obj[key]);
    if (v !== undefined) out[json] = v;
  }
  return out;
}

/**
 * What the client sends back after reading `json` into `modelName` and writing it again (the read-modify-write
 * form: `var x = Get(); x.Properties.Description = …; Update(x.Properties)`): only the model's members, in its
 * JSON names, nulls left out, getter-only members (`@odata.type` of subclasses) and read-only ones (`created`)
 * written too, DateTime as `yyyy-MM-ddTHH:mm:ss.ffZ`, Guids lower-case, enums by wire name. `json` must be
 * readable (`dotnetDeserializationErrors` empty). Members with `EmitDefaultValue = false` holding a default are
 * not modelled (they are written).
 */
export function dotnetReserialize(modelName: string, json: unknown): Record<string, unknown> {
  const models = dotnetModels();
  if (!models.classes[modelName]) throw new Error(`unknown .NET client model ${modelName} (not in test/fixtures/mkio-dotnet/models.json)`);
  return reserialize(models, modelName, json) as Record<string, unknown>;
}

// Contract checks against MediaKind's published MK.IO OpenAPI 3.0.2 documents.
//
// The documents are reference data vendored into test/fixtures/mkio-openapi (version and origin in its README) and
// read at test time, so a newer copy changes what the tests check without touching code. Each document's
// `components.schemas` is converted to JSON Schema 2019-09 once per (document, direction) and compiled with
// Ajv on first use. Direction matters because OpenAPI's `readOnly` fields are required only in responses and
// `writeOnly` fields only in requests. See docs/CONTRACT-TESTS.md for usage and for the places where the
// documents themselves disagree with MKIO-API.md.

import { AssertionError } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';

export type MkioDoc = 'media' | 'management';
export type MkioDirection = 'request' | 'response';

/** One way a value breaks a schema. `path` is a JSON pointer into the value; `schema` names the component. */
export interface MkioViolation {
  path: string;
  message: string;
  schema: string;
  keyword: string;
}

/** What an assertion checked. `documented: false` only comes back when `allowUndocumented` was passed. */
export interface MkioCheck {
  documented: boolean;
  /** `METHOD template`, e.g. `GET /api/v1/projects/{project_name}/media/assets/{asset_name}`. */
  operation?: string;
  /** The response key used: the status itself, `4XX` or `default`. */
  responseKey?: string;
  /** Component schema the body was checked against; `(inline)` for an inline schema; absent when none. */
  schemaName?: string;
  reason?: string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the vendored documents live, so a clone with nothing beside it runs the contract checks. */
export const MKIO_OPENAPI_DIR = path.resolve(repoRoot, 'test', 'fixtures', 'mkio-openapi');
const FILES: Record<MkioDoc, string> = { media: 'media-api.json', management: 'management-api.json' };
const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'] as const;
const COMPONENT_REF = '#/components/schemas/';

// The documents are plain JSON; these aliases only name what the harness reads from them.
type Json = Record<string, any>;
interface OpenApiOperation {
  requestBody?: Json;
  responses?: Record<string, Json>;
}

const docs = new Map<MkioDoc, Json>();

/** The parsed OpenAPI document (cached). */
export function mkioDocument(doc: MkioDoc): Json {
  let d = docs.get(doc);
  if (!d) {
    const file = path.join(MKIO_OPENAPI_DIR, FILES[doc]);
    if (!fs.existsSync(file)) throw new Error(`MK.IO OpenAPI document not found at ${file} (vendored in test/fixtures/mkio-openapi)`);
    d = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    docs.set(doc, d);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// OpenAPI 3.0 schema → JSON Schema 2019-09

/** Where a converted sub-schema came from, so Ajv errors can name the component (Ajv reports only local paths). */
interface Origin {
  name: string;
  pointer: string;
}

function schemaId(doc: MkioDoc, direction: MkioDirection): string {
  return `https://reel.invalid/mkio/${doc}/${direction}.json`;
}

class Converter {
  readonly origins = new WeakMap<object, Origin>();
  readonly missingRefs = new Set<string>();

  constructor(
    private readonly components: Json,
    private readonly id: string,
    private readonly direction: MkioDirection,
  ) {}

  ref(ref: string): string {
    if (!ref.startsWith(COMPONENT_REF)) {
      this.missingRefs.add(ref);
      return ref;
    }
    const name = ref.slice(COMPONENT_REF.length);
    if (!(name in this.components)) this.missingRefs.add(ref);
    return `${this.id}#/$defs/${name}`;
  }

  /** OpenAPI's `readOnly`/`writeOnly` may sit beside a `$ref` or on the referenced component. */
  private flag(s: unknown, key: 'readOnly' | 'writeOnly'): boolean {
    if (!s || typeof s !== 'object') return false;
    const o = s as Json;
    if (o[key] === true) return true;
    return typeof o.$ref === 'string' && o.$ref.startsWith(COMPONENT_REF) && this.components[o.$ref.slice(COMPONENT_REF.length)]?.[key] === true;
  }

  convert(s: unknown, origin: Origin): unknown {
    if (Array.isArray(s)) return s.map((x, i) => this.convert(x, { ...origin, pointer: `${origin.pointer}/${i}` }));
    if (!s || typeof s !== 'object') return s;
    const src = s as Json;
    const out: Json = {};
    for (const [k, v] of Object.entries(src)) {
      // Dropped: OpenAPI-only annotations and vendor extensions; `nullable`/`discriminator` are rewritten below.
      if (k === 'nullable' || k === 'discriminator' || k === 'example' || k.startsWith('x-')) continue;
      if (k === '$ref' && typeof v === 'string') out.$ref = this.ref(v);
      // The documents' patterns are Python `re` syntax: AbsoluteClipTime.time uses `(?P<name>…)` groups.
      else if (k === 'pattern' && typeof v === 'string') out.pattern = v.replace(/\(\?P</g, '(?<');
      else if (k === 'properties' || k === 'patternProperties') {
        out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, this.convert(ps, { ...origin, pointer: `${origin.pointer}/${k}/${p}` })]));
      } else if (k === 'enum' || k === 'required' || k === 'default' || k === 'const') out[k] = v;
      else out[k] = this.convert(v, { ...origin, pointer: `${origin.pointer}/${k}` });
    }
    // readOnly fields must not be demanded of requests, writeOnly fields not of responses (OpenAPI 3.0 Schema Object, readOnly/writeOnly).
    if (Array.isArray(src.required) && src.properties) {
      const skip = this.direction === 'request' ? 'readOnly' : 'writeOnly';
      const kept = (src.required as string[]).filter((p) => !this.flag(src.properties[p], skip));
      if (kept.length) out.required = kept;
      else delete out.required;
    }
    let result: Json = this.mark(out, origin);
    if (src.discriminator && Array.isArray(src.oneOf)) result = this.mark(this.discriminated(src, out, origin), origin);
    if (src.nullable === true) result = this.mark(this.nullable(result, origin), origin);
    return result;
  }

  // `oneOf` + `discriminator.mapping` becomes "the tag picks the branch": errors then come from the one branch
  // that applies instead of from every branch, and duplicated branches (TransformOutput.preset lists
  // BuiltInAssetConverterPreset twice, which a plain oneOf could never match) stop mattering.
  private discriminated(src: Json, out: Json, origin: Origin): Json {
    const prop: string = src.discriminator.propertyName;
    const mapping: Record<string, string> = { ...(src.discriminator.mapping ?? {}) };
    if (!Object.keys(mapping).length) {
      for (const b of src.oneOf as Json[]) if (typeof b.$ref === 'string') mapping[b.$ref.slice(COMPONENT_REF.length)] = b.$ref;
    }
    delete out.oneOf;
    const tags = Object.keys(mapping);
    return {
      ...out,
      type: 'object',
      required: [prop],
      properties: { [prop]: this.mark({ enum: tags }, origin) },
      allOf: tags.map((tag) => this.mark({ if: { required: [prop], properties: { [prop]: { const: tag } } }, then: { $ref: this.ref(mapping[tag]) } }, origin)),
    };
  }

  // OpenAPI 3.0 `nullable: true` has no JSON Schema twin. With a `type` it becomes a type union (and null joins
  // any `enum`, which is what the authors meant for e.g. AzureCredentialSpecRead.type); without one (a
  // discriminated union) the schema applies only to non-null values.
  private nullable(s: Json, origin: Origin): Json {
    if (typeof s.type === 'string' && !s.allOf) {
      const r: Json = { ...s, type: [s.type, 'null'] };
      if (Array.isArray(s.enum) && !s.enum.includes(null)) r.enum = [...s.enum, null];
      return r;
    }
    return { if: this.mark({ type: 'null' }, origin), else: s };
  }

  private mark<T extends object>(s: T, origin: Origin): T {
    this.origins.set(s, origin);
    return s;
  }
}

interface Compiled {
  ajv: Ajv2019;
  id: string;
  converter: Converter;
  names: string[];
  byName: Map<string, ValidateFunction>;
  inline: WeakMap<object, ValidateFunction>;
}

const compiled = new Map<string, Compiled>();

function compile(doc: MkioDoc, direction: MkioDirection): Compiled {
  const key = `${doc}:${direction}`;
  let c = compiled.get(key);
  if (c) return c;
  const components: Json = mkioDocument(doc).components?.schemas ?? {};
  const id = schemaId(doc, direction);
  const converter = new Converter(components, id, direction);
  const defs: Json = {};
  for (const [name, s] of Object.entries(components)) defs[name] = converter.convert(s, { name, pointer: '' });
  if (converter.missingRefs.size) throw new Error(`MK.IO ${doc} document has unresolvable $ref: ${[...converter.missingRefs].join(', ')}`);
  // strict:false because the documents carry OpenAPI-only keywords; allErrors so a failure lists everything;
  // inlineRefs:false so each component compiles once; verbose so errors point at the schema object (→ origin);
  // unicodeRegExp:false because the name pattern `^[^\^\'<>%&:\\?/*+]+$` escapes `'`, which `u` mode rejects.
  const ajv = new Ajv2019({ strict: false, allErrors: true, inlineRefs: false, verbose: true, unicodeRegExp: false });
  addFormatsModule.default(ajv);
  ajv.addSchema({ $id: id, $defs: defs });
  c = { ajv, id, converter, names: Object.keys(components), byName: new Map(), inline: new WeakMap() };
  compiled.set(key, c);
  return c;
}

function namedValidator(c: Compiled, name: string): ValidateFunction {
  let v = c.byName.get(name);
  if (!v) {
    if (!c.names.includes(name)) throw new Error(`no component schema named ${JSON.stringify(name)}`);
    v = c.ajv.getSchema(`${c.id}#/$defs/${name}`);
    if (!v) throw new Error(`could not compile component schema ${name}`);
    c.byName.set(name, v);
  }
  return v;
}

/** Validator for one operation's media-type schema: a component `$ref` or an inline schema. */
function validatorFor(c: Compiled, schema: Json): { name: string; validate: ValidateFunction } {
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith(COMPONENT_REF)) {
    const name = schema.$ref.slice(COMPONENT_REF.length);
    return { name, validate: namedValidator(c, name) };
  }
  let v = c.inline.get(schema);
  if (!v) {
    v = c.ajv.compile(c.converter.convert(schema, { name: '(inline)', pointer: '' }) as Json);
    c.inline.set(schema, v);
  }
  return { name: '(inline)', validate: v };
}

function violations(c: Compiled, errors: ErrorObject[] | null | undefined, fallback: string): MkioViolation[] {
  const out: MkioViolation[] = [];
  for (const e of errors ?? []) {
    // `if` errors only say "must match then/else schema"; the branch's own errors are already listed.
    if (e.keyword === 'if') continue;
    let at = e.instancePath;
    if (e.keyword === 'required') at += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') at += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
    const origin = e.parentSchema ? c.converter.origins.get(e.parentSchema) : undefined;
    const where = origin ? `${origin.name}${origin.pointer ? `#${origin.pointer}` : ''}` : fallback;
    let message = e.message ?? e.keyword;
    if (e.keyword === 'enum') message += `: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    if (e.keyword === 'required') message = 'is required but missing';
    if (e.keyword === 'additionalProperties') message = 'is not allowed (additionalProperties: false)';
    out.push({ path: at || '/', message, schema: where, keyword: e.keyword });
  }
  return out;
}

/** A cached validator over one document's component schemas, for the given direction (default: response). */
export interface MkioValidator {
  readonly doc: MkioDoc;
  readonly direction: MkioDirection;
  /** Names of every component schema in the document. */
  schemaNames(): string[];
  /** Violations of `value` against the named component schema; empty when valid. */
  validate(schemaName: string, value: unknown): MkioViolation[];
}

export function mkioSchemaValidator(doc: MkioDoc, direction: MkioDirection = 'response'): MkioValidator {
  return {
    doc,
    direction,
    schemaNames: () => [...compile(doc, direction).names],
    validate(schemaName, value) {
      const c = compile(doc, direction);
      const v = namedValidator(c, schemaName);
      return v(value) ? [] : violations(c, v.errors, schemaName);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Finding the operation for a concrete request

const LEGACY_MEDIA = /^\/api\/ams\/([^/]+)(\/.*)?$/;

function segments(p: string): string[] {
  const parts = p.split('/').slice(1);
  // `/assets/{asset_name}/storage/` is spelled with a trailing slash in the document; routers decide slashes,
  // the contract is about bodies, so one trailing slash is ignored on both sides.
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The operation that serves `method concretePath`, or undefined. Legacy media paths `/api/ams/{project}/…` are
 * looked up as `/api/v1/projects/{project}/media/…`, since both generations share one body schema. When several
 * templates match, the one with the most literal segments wins (OpenAPI: concrete paths before templated ones).
 */
export function findMkioOperation(doc: MkioDoc, method: string, concretePath: string): { template: string; operation: OpenApiOperation } | undefined {
  let p = concretePath.split(/[?#]/, 1)[0];
  const legacy = doc === 'media' ? LEGACY_MEDIA.exec(p) : null;
  if (legacy) p = `/api/v1/projects/${legacy[1]}/media${legacy[2] ?? ''}`;
  const want = segments(p).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  const m = method.toLowerCase();
  if (!(HTTP_METHODS as readonly string[]).includes(m)) return undefined;
  let best: { template: string; operation: OpenApiOperation; literals: number } | undefined;
  for (const [template, item] of Object.entries(mkioDocument(doc).paths as Json)) {
    const op = (item as Json)[m] as OpenApiOperation | undefined;
    if (!op) continue;
    const have = segments(template);
    if (have.length !== want.length) continue;
    let literals = 0;
    const ok = have.every((seg, i) => {
      if (/^\{[^}]+\}$/.test(seg)) return want[i] !== '';
      literals++;
      return seg === want[i];
    });
    if (ok && (!best || literals > best.literals)) best = { template, operation: op, literals };
  }
  return best && { template: best.template, operation: best.operation };
}

function pickContent(content: Json | undefined, contentType?: string): Json | undefined {
  if (!content) return undefined;
  if (contentType) return content[contentType];
  if (content['application/json']) return content['application/json'];
  const json = Object.keys(content).find((k) => k.includes('json'));
  return json ? content[json] : undefined;
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || body === '';
}

function fail(title: string, list: MkioViolation[], actual: unknown, expected: string): never {
  const lines = list.map((v) => `  - ${v.path}: ${v.message} [${v.schema}]`);
  throw new AssertionError({ message: `${title}: ${list.length} violation(s)\n${lines.join('\n')}`, actual, expected, operator: 'mkioContract' });
}

function undocumented(title: string, reason: string, allow: boolean | undefined, actual: unknown): MkioCheck {
  if (!allow)
    throw new AssertionError({
      message: `${title}: not documented by MK.IO (${reason})`,
      actual,
      expected: 'a documented operation',
      operator: 'mkioContract',
    });
  return { documented: false, reason };
}

export interface MkioResponseInput {
  doc: MkioDoc;
  method: string;
  /** Concrete request path, query string allowed (ignored). */
  path: string;
  status: number;
  /** The parsed JSON body (e.g. `res.json()`); undefined/null/'' for an empty body. */
  body: unknown;
  /** Media type to check; defaults to application/json (or the operation's only JSON type). */
  contentType?: string;
  /**
   * Return `{documented:false}` instead of throwing when the document has no schema for this request. An
   * undocumented status ≥ 400 is then still checked against the document's `Error` schema, because every
   * documented error response in both documents uses it.
   */
  allowUndocumented?: boolean;
}

/** Throws an AssertionError listing every violation unless `body` is what MK.IO documents for this response. */
export function assertMkioResponse(input: MkioResponseInput): MkioCheck {
  const { doc, method, path: p, status, body } = input;
  const title = `MK.IO ${doc} contract, ${method.toUpperCase()} ${p} → ${status}`;
  const found = findMkioOperation(doc, method, p);
  const errorFallback = (reason: string): MkioCheck => {
    const check = undocumented(title, reason, input.allowUndocumented, body);
    if (status >= 400 && mkioDocument(doc).components?.schemas?.Error) {
      assertMkioSchema(doc, 'Error', body);
      return { ...check, schemaName: 'Error' };
    }
    return check;
  };
  if (!found) return errorFallback('no operation matches this method and path');
  const operation = `${method.toUpperCase()} ${found.template}`;
  const responses = found.operation.responses ?? {};
  const wildcard = `${String(status)[0]}XX`;
  const responseKey = [String(status), wildcard, wildcard.toLowerCase(), 'default'].find((k) => k in responses);
  if (!responseKey) return { ...errorFallback(`${operation} documents no ${status} response`), operation };
  const response = responses[responseKey];
  if (!response.content) {
    if (isEmptyBody(body)) return { documented: true, operation, responseKey };
    return { ...undocumented(title, `${operation} ${responseKey} is documented without a body`, input.allowUndocumented, body), operation, responseKey };
  }
  const media = pickContent(response.content, input.contentType);
  if (!media?.schema)
    return {
      ...undocumented(title, `${operation} ${responseKey} has no schema for ${input.contentType ?? 'JSON'}`, input.allowUndocumented, body),
      operation,
      responseKey,
    };
  const c = compile(doc, 'response');
  const { name, validate } = validatorFor(c, media.schema);
  if (!validate(body)) fail(`${title} (${operation}, ${responseKey} ${name})`, violations(c, validate.errors, name), body, name);
  return { documented: true, operation, responseKey, schemaName: name };
}

export interface MkioRequestInput {
  doc: MkioDoc;
  method: string;
  path: string;
  body: unknown;
  contentType?: string;
}

/** Throws unless `body` is a request body MK.IO documents for this operation (readOnly fields not required). */
export function assertMkioRequestAccepted(input: MkioRequestInput): MkioCheck {
  const { doc, method, path: p, body } = input;
  const title = `MK.IO ${doc} contract, request ${method.toUpperCase()} ${p}`;
  const found = findMkioOperation(doc, method, p);
  if (!found) return undocumented(title, 'no operation matches this method and path', false, body);
  const operation = `${method.toUpperCase()} ${found.template}`;
  const rb = found.operation.requestBody;
  if (!rb) {
    if (isEmptyBody(body)) return { documented: true, operation };
    return undocumented(title, `${operation} takes no request body`, false, body);
  }
  const media = pickContent(rb.content, input.contentType);
  if (!media?.schema) return undocumented(title, `${operation} has no request schema for ${input.contentType ?? 'JSON'}`, false, body);
  if (isEmptyBody(body) && rb.required !== true) return { documented: true, operation };
  const c = compile(doc, 'request');
  const { name, validate } = validatorFor(c, media.schema);
  if (!validate(body)) fail(`${title} (${operation} ${name})`, violations(c, validate.errors, name), body, name);
  return { documented: true, operation, schemaName: name };
}

/** Throws unless `value` is valid against the named component schema (response rules unless told otherwise). */
export function assertMkioSchema(doc: MkioDoc, schemaName: string, value: unknown, direction: MkioDirection = 'response'): void {
  const list = mkioSchemaValidator(doc, direction).validate(schemaName, value);
  if (list.length) fail(`MK.IO ${doc} contract, ${direction} schema ${schemaName}`, list, value, schemaName);
}

#!/usr/bin/env node
// Dev tool: reads the C# model classes of MK.IO's official .NET client from a git mirror and writes the type
// information the replay suite checks responses against (test/fixtures/mkio-dotnet/models.json). Only names,
// JSON property names, types and enum wire values are extracted; no code is copied.
//
//   node scripts/dev/extract-dotnet-models.mjs [mirror-git-dir] [commit]
//
// Defaults: /work/.mirror/microsoft+MK.IO/repo at HEAD. See docs/CONTRACT-TESTS.md ("Replay of the .NET client").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const mirror = process.argv[2] ?? '/work/.mirror/microsoft+MK.IO/repo';
const rev = process.argv[3] ?? 'HEAD';
const git = (...args) => execFileSync('git', ['-C', mirror, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const commit = git('rev-parse', rev).trim();
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/mkio-dotnet/models.json');

const files = git('ls-tree', '-r', '--name-only', commit, 'MK.IO')
  .split('\n')
  .filter((f) => f.endsWith('.cs'))
  .filter((f) => !/Operations\.cs$|\/MKIOClient\.cs$|\/IMKIOClient\.cs$|\/ConverterLE\.cs$|\/ApiException\.cs$|\/Argument\.cs$/.test(f));

const classes = {};
const enums = {};
const problems = [];

const MODIFIERS = /^(public|internal|protected|private|virtual|override|new|readonly|required|abstract|sealed|partial)$/;

/** Removes comments and string-literal braces' influence (strings are kept, they carry JSON names). */
function stripComments(src) {
  return src
    .replace(/^\uFEFF/, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.replace(/(^|[^:"])\/\/.*$/, '$1'))
    .join('\n');
}

/** Index of the brace closing the one at `open` (braces inside string literals are skipped). */
function matchBrace(s, open) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return s.length;
}

/** Splits a block's direct members into statements: attributes are kept with the member they precede. */
function members(body) {
  const result = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"') {
      let j = i + 1;
      while (j < body.length && body[j] !== '"') j += body[j] === '\\' ? 2 : 1;
      if (depth === 0) current += body.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '{') {
      if (depth === 0) current += '{';
      depth++;
      continue;
    }
    if (c === '}') {
      depth--;
      if (depth === 0) {
        current += '}';
        // A property `{ get; set; }` may continue with an initializer up to ';'.
        const rest = body.slice(i + 1).match(/^\s*(=[^;]*)?;/);
        if (rest) i += rest[0].length;
        result.push(current.trim());
        current = '';
      }
      continue;
    }
    if (depth > 0) continue;
    current += c;
    if (c === ';') {
      result.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) result.push(current.trim());
  return result;
}

function attributesOf(text) {
  const attrs = [];
  let rest = text.trimStart();
  while (rest.startsWith('[')) {
    let depth = 0;
    let i = 0;
    for (; i < rest.length; i++) {
      if (rest[i] === '"') {
        i++;
        while (i < rest.length && rest[i] !== '"') i += rest[i] === '\\' ? 2 : 1;
      } else if (rest[i] === '[') depth++;
      else if (rest[i] === ']' && --depth === 0) break;
    }
    attrs.push(rest.slice(1, i).trim());
    rest = rest.slice(i + 1).trimStart();
  }
  return { attrs, rest };
}

/** C# type → the type expression of models.json (see the fixture README). */
function normaliseType(t) {
  t = t.replace(/\s+/g, '');
  let nullable = false;
  if (t.endsWith('?')) {
    nullable = true;
    t = t.slice(0, -1);
  }
  const generic = t.match(/^([\w.]+)<(.*)>$/);
  let expr;
  if (generic) {
    const [, name, args] = generic;
    const parts = splitArgs(args);
    if (/^(List|IList|IEnumerable|ICollection|IReadOnlyList|Collection)$/.test(name)) expr = `List<${normaliseType(parts[0]).expr}>`;
    else if (/^(Dictionary|IDictionary|IReadOnlyDictionary)$/.test(name)) expr = `Dictionary<${normaliseType(parts[1]).expr}>`;
    else expr = `${name}<${parts.map((p) => normaliseType(p).expr).join(',')}>`;
  } else if (t.endsWith('[]')) {
    expr = t === 'byte[]' ? 'bytes' : `List<${normaliseType(t.slice(0, -2)).expr}>`;
  } else {
    expr =
      {
        String: 'string',
        string: 'string',
        Guid: 'Guid',
        DateTime: 'DateTime',
        TimeSpan: 'TimeSpan',
        int: 'int',
        Int32: 'int',
        long: 'long',
        Int64: 'long',
        ulong: 'ulong',
        uint: 'uint',
        short: 'short',
        double: 'double',
        float: 'double',
        decimal: 'decimal',
        bool: 'bool',
        Boolean: 'bool',
        object: 'any',
        Object: 'any',
        JObject: 'any',
        JToken: 'any',
        dynamic: 'any',
      }[t] ?? t;
  }
  return { expr, nullable };
}

function splitArgs(s) {
  const parts = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '<') depth++;
    if (c === '>') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const VALUE_TYPES = new Set(['Guid', 'DateTime', 'TimeSpan', 'int', 'long', 'ulong', 'uint', 'short', 'double', 'decimal', 'bool']);

function parseType(kind, name, attrs, head, body, file) {
  if (kind === 'enum') {
    const values = [];
    for (const m of body.split(',')) {
      const { attrs: a, rest } = attributesOf(m);
      const member = rest.match(/^(\w+)/)?.[1];
      if (!member) continue;
      const wire = a.map((x) => x.match(/^EnumMember\s*\(\s*Value\s*=\s*"([^"]*)"/)?.[1]).find((x) => x !== undefined);
      values.push(wire ?? member);
    }
    const stringConverter = attrs.some((a) => /StringEnumConverter/.test(a));
    if (enums[name]) problems.push(`enum ${name} defined twice (${file})`);
    enums[name] = stringConverter ? values : { values, serializedAs: 'number' };
    return;
  }
  const cls = { source: file };
  const baseName = head.match(/:\s*([\w.]+)/)?.[1];
  if (baseName) cls.base = baseName;
  if (attrs.some((a) => /^JsonConverter\s*\(\s*typeof\s*\(\s*JsonSubtypes\s*\)/.test(a))) {
    const property = attrs.map((a) => a.match(/JsonSubtypes\s*\)\s*,\s*"([^"]+)"/)?.[1]).find(Boolean);
    const subtypes = {};
    for (const a of attrs) {
      const k = a.match(/KnownSubType\s*\(\s*typeof\s*\(\s*(\w+)\s*\)\s*,\s*"([^"]*)"\s*\)/);
      if (k) subtypes[k[2]] = k[1];
    }
    cls.subtypes = { property, values: subtypes };
  }
  const other = attrs.filter((a) => /JsonConverter/.test(a) && !/JsonSubtypes/.test(a));
  if (other.length) problems.push(`class ${name}: converter ${other.join(' ')} not modelled`);
  const dataContract = attrs.some((a) => /^DataContract\b/.test(a));
  cls.properties = {};
  const required = [];
  for (const m of members(body)) {
    const { attrs: a, rest } = attributesOf(m);
    if (/^(static|const)\b|\bstatic\b|\bconst\b/.test(rest.split(/[({=]/)[0])) continue;
    const decl = rest.match(/^((?:\w+\s+)*?)([\w.]+(?:<[^{}=;]*>)?(?:\[\])?\??)\s+(\w+)\s*(\{|=>)/);
    if (!decl) continue;
    const mods = decl[1].trim().split(/\s+/).filter(Boolean);
    if (!mods.every((x) => MODIFIERS.test(x))) continue;
    if (a.some((x) => /^JsonIgnore\b/.test(x))) continue;
    const jp = a.find((x) => /^JsonProperty\b/.test(x));
    const dm = a.find((x) => /^DataMember\b/.test(x));
    const jsonName =
      jp?.match(/JsonProperty\s*\(\s*"([^"]+)"/)?.[1] ??
      jp?.match(/PropertyName\s*=\s*"([^"]+)"/)?.[1] ??
      dm?.match(/Name\s*=\s*"([^"]+)"/)?.[1] ??
      (jp || (!dataContract && mods.includes('public')) ? decl[3] : undefined);
    if (!jsonName) continue;
    const { expr, nullable } = normaliseType(decl[2]);
    const readOnly = decl[4] === '=>';
    const req = jp?.match(/Required\s*=\s*Required\.(\w+)/)?.[1];
    if (req) required.push(`${jsonName}:${req}`);
    cls.properties[jsonName] = { expr, nullable, readOnly };
  }
  if (required.length) cls.required = required;
  if (classes[name]) problems.push(`class ${name} defined twice (${classes[name].source}, ${file})`);
  classes[name] = cls;
}

for (const file of files) {
  const src = stripComments(git('show', `${commit}:${file}`));
  // Top-level (namespace-level) types; nested types are parsed the same way.
  const re = /((?:\[[^\]]*(?:\][^\][]*)?\]\s*)*)((?:\w+\s+)*)(class|enum|record|struct)\s+(\w+)([^{]*)\{/g;
  let m;
  while ((m = re.exec(src))) {
    const lineStart = src.lastIndexOf('\n', m.index + m[1].length) + 1;
    if (src.slice(lineStart, m.index + m[0].length).includes('"')) continue; // `class X {` inside a string literal
    const open = m.index + m[0].length - 1;
    const close = matchBrace(src, open);
    const { attrs } = attributesOf(m[1]);
    const body = src.slice(open + 1, close);
    const kind = m[3] === 'enum' ? 'enum' : 'class';
    // Nested types inside the body are found by the same global regex; don't read them as members.
    parseType(kind, m[4], attrs, m[5], body, file);
    re.lastIndex = open + 1;
  }
}

// Reference types always accept null; value types (numbers, Guid, DateTime, TimeSpan, enums) only when `T?`.
for (const cls of Object.values(classes)) {
  for (const [prop, { expr, nullable, readOnly }] of Object.entries(cls.properties)) {
    const valueType = VALUE_TYPES.has(expr) || Object.hasOwn(enums, expr);
    cls.properties[prop] = `${expr}${nullable || !valueType ? '?' : ''}${readOnly ? ' readonly' : ''}`;
  }
}

// Every referenced name must resolve.
const known = new Set([...Object.keys(classes), ...Object.keys(enums), ...VALUE_TYPES, 'string', 'any', 'bytes']);
for (const [name, cls] of Object.entries(classes)) {
  if (cls.base && !classes[cls.base]) problems.push(`class ${name}: base ${cls.base} unknown`);
  for (const [prop, type] of Object.entries(cls.properties)) {
    for (const ref of type.replace(/\?|readonly/g, '').match(/\w+/g) ?? []) {
      if (!known.has(ref) && !['List', 'Dictionary'].includes(ref)) problems.push(`class ${name}.${prop}: type ${ref} unknown`);
    }
  }
}

const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
const result = {
  source: { repository: 'https://github.com/microsoft/MK.IO', commit, files: files.length },
  settings: {
    library: 'Newtonsoft.Json',
    nullValueHandling: 'Ignore',
    metadataPropertyHandling: 'Ignore',
    missingMemberHandling: 'Ignore',
    converters: ['CustomDateTimeConverter', 'CustomTimeSpanConverter', 'StringEnumConverter (per enum)', 'JsonSubtypes (per base class)'],
  },
  classes: sorted(classes),
  enums: sorted(enums),
};
for (const cls of Object.values(result.classes)) delete cls.source;
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
console.log(`${Object.keys(classes).length} classes, ${Object.keys(enums).length} enums from ${files.length} files at ${commit} → ${out}`);
for (const p of problems) console.warn(`warning: ${p}`);

import { X509Certificate, createPublicKey } from 'node:crypto';
import { BadRequestError } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { odataTypes, type ContentKeyPolicyOption } from '../../../shared/content-protection.js';

/**
 * Validation of content key policy options (§14.1–14.2), field by field, so a 400 names the one field at fault.
 * Written out rather than as a JSON schema: the `@odata.type` discriminators nest three deep (option →
 * configuration/restriction → licence location/verification key), and a union schema would report every branch.
 * Errors name the field and what is wrong with it, never the value given (it may be a secret).
 */

type Json = Record<string, unknown>;

function fail(path: string, problem: string): never {
  const message = `${path} ${problem}`;
  throw new BadRequestError('ValidationError', `Invalid request: ${message}`, { extraDetail: { errors: [message] } });
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** ISO 8601 durations as .NET's TimeSpan/XmlConvert writes them (`PT1H`, `P1DT12H30M5.5S`). */
const isoDuration = /^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?!$)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const isoDateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads one object's fields: each accessor checks a field, and `done` refuses any field nobody asked for. */
class Fields {
  private readonly seen = new Set<string>(['@odata.type']);
  constructor(
    private readonly value: Json,
    readonly path: string,
  ) {}

  private at(name: string): string {
    return `${this.path}.${name}`;
  }
  /** The field's value; null counts as absent for optional fields (AMS exports write `null` for unset ones). */
  raw(name: string, required: boolean): unknown {
    this.seen.add(name);
    const v = this.value[name];
    if ((v === undefined || v === null) && required) fail(this.at(name), 'is required');
    return v ?? undefined;
  }
  string(name: string, required: boolean, rule?: { minLength?: number; maxLength?: number }): string | undefined {
    const v = this.raw(name, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') fail(this.at(name), 'must be a string');
    if (rule?.minLength !== undefined && v.length < rule.minLength) fail(this.at(name), `must have at least ${rule.minLength} character(s)`);
    if (rule?.maxLength !== undefined && v.length > rule.maxLength) fail(this.at(name), `must have at most ${rule.maxLength} characters`);
    return v;
  }
  boolean(name: string, required: boolean): boolean | undefined {
    const v = this.raw(name, required);
    if (v !== undefined && typeof v !== 'boolean') fail(this.at(name), 'must be a boolean');
    return v;
  }
  integer(name: string, required: boolean, min?: number, max?: number): number | undefined {
    const v = this.raw(name, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(this.at(name), 'must be an integer');
    if ((min !== undefined && v < min) || (max !== undefined && v > max))
      fail(this.at(name), max === undefined ? `must be at least ${min}` : `must be between ${min} and ${max}`);
    return v;
  }
  oneOf<T extends string>(name: string, required: boolean, values: readonly T[]): T | undefined {
    const v = this.raw(name, required);
    if (v !== undefined && !values.includes(v as T)) fail(this.at(name), `must be one of ${values.join(', ')}`);
    return v as T | undefined;
  }
  matching(name: string, required: boolean, pattern: RegExp, what: string): string | undefined {
    const v = this.string(name, required);
    if (v !== undefined && !pattern.test(v)) fail(this.at(name), `must be ${what}`);
    return v;
  }
  /** Base64 (RFC 4648 §4, padded) of at least one byte, decoded; `bytes` demands an exact length. */
  bytes(name: string, required: boolean, bytes?: number): Buffer | undefined {
    const v = this.string(name, required);
    if (v === undefined) return undefined;
    if (v.length === 0 || !base64.test(v)) fail(this.at(name), 'must be base64');
    const decoded = Buffer.from(v, 'base64');
    if (bytes !== undefined && decoded.length !== bytes) fail(this.at(name), `must be the base64 of exactly ${bytes} bytes`);
    return decoded;
  }
  object(name: string, required: boolean): Fields | undefined {
    const v = this.raw(name, required);
    if (v === undefined) return undefined;
    if (!isObject(v)) fail(this.at(name), 'must be an object');
    return new Fields(v, this.at(name));
  }
  array(name: string, required: boolean): Fields[] | undefined {
    const v = this.raw(name, required);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) fail(this.at(name), 'must be an array');
    return v.map((item, i) => {
      if (!isObject(item)) fail(`${this.at(name)}[${i}]`, 'must be an object');
      return new Fields(item, `${this.at(name)}[${i}]`);
    });
  }
  /** The `@odata.type` discriminator, one of `types`. */
  odataType<T extends string>(types: readonly T[]): T {
    const v = this.value['@odata.type'];
    if (v === undefined || v === null) fail(`${this.path}.@odata.type`, 'is required');
    if (!types.includes(v as T)) fail(`${this.path}.@odata.type`, `must be one of ${types.join(', ')}`);
    return v as T;
  }
  /** Refuses fields nobody read: a typo or a field of another type would otherwise be stored and ignored. */
  done(): void {
    for (const key of Object.keys(this.value)) if (!this.seen.has(key)) fail(`${this.path}.${key}`, 'is not a field of this type');
  }
}

/** Builds a plain object of the fields that are set, in the given order (absent and null ones left out). */
function compact(entries: Array<[string, unknown]>): Json {
  const out: Json = {};
  for (const [k, v] of entries) if (v !== undefined) out[k] = v;
  return out;
}

const contentTypes = ['Unknown', 'Unspecified', 'UltraVioletDownload', 'UltraVioletStreaming'] as const;
const licenseTypes = ['Unknown', 'NonPersistent', 'Persistent'] as const;
const securityLevels = ['Unknown', 'SL150', 'SL2000', 'SL3000'] as const;
const unknownOutput = ['Unknown', 'NotAllowed', 'Allowed', 'AllowedWithVideoConstriction'] as const;
const rentalTypes = ['Unknown', 'Undefined', 'DualExpiry', 'PersistentUnlimited', 'PersistentLimited'] as const;
const fromHeader = '#Microsoft.Media.ContentKeyPolicyPlayReadyContentEncryptionKeyFromHeader';
const fromKeyIdentifier = '#Microsoft.Media.ContentKeyPolicyPlayReadyContentEncryptionKeyFromKeyIdentifier';

function playRight(f: Fields): Json {
  const opl = (name: string) => f.integer(name, false);
  const analog = f.object('explicitAnalogTelevisionOutputRestriction', false);
  const out = compact([
    // Required by MK.IO's schema; the .NET client leaves out an enum at its first value (`Unknown`) and unset
    // booleans, so absent means those (docs/MKIO-DIFFERENCES.md, "Request bodies of the .NET client").
    ['allowPassingVideoContentToUnknownOutput', f.oneOf('allowPassingVideoContentToUnknownOutput', false, unknownOutput) ?? 'Unknown'],
    ['digitalVideoOnlyContentRestriction', f.boolean('digitalVideoOnlyContentRestriction', false) ?? false],
    ['imageConstraintForAnalogComponentVideoRestriction', f.boolean('imageConstraintForAnalogComponentVideoRestriction', false) ?? false],
    ['imageConstraintForAnalogComputerMonitorRestriction', f.boolean('imageConstraintForAnalogComputerMonitorRestriction', false) ?? false],
    ['agcAndColorStripeRestriction', f.integer('agcAndColorStripeRestriction', false, 0, 3)],
    ['analogVideoOpl', opl('analogVideoOpl')],
    ['compressedDigitalAudioOpl', opl('compressedDigitalAudioOpl')],
    ['compressedDigitalVideoOpl', opl('compressedDigitalVideoOpl')],
    ['uncompressedDigitalAudioOpl', opl('uncompressedDigitalAudioOpl')],
    ['uncompressedDigitalVideoOpl', opl('uncompressedDigitalVideoOpl')],
    ['scmsRestriction', f.integer('scmsRestriction', false, 0, 3)],
    [
      'explicitAnalogTelevisionOutputRestriction',
      analog &&
        compact([
          ['bestEffort', analog.boolean('bestEffort', true)],
          ['configurationData', analog.integer('configurationData', true, 0, 3)],
        ]),
    ],
    ['firstPlayExpiration', f.matching('firstPlayExpiration', false, isoDuration, 'an ISO 8601 duration')],
  ]);
  analog?.done();
  f.done();
  return out;
}

function playReadyLicense(f: Fields): Json {
  const location = f.object('contentKeyLocation', true) as Fields;
  const locationType = location.odataType([fromHeader, fromKeyIdentifier]);
  const keyId = locationType === fromKeyIdentifier ? location.matching('keyId', true, guid, 'a GUID') : undefined;
  location.done();
  const right = f.object('playRight', false);
  const out = compact([
    ['allowTestDevices', f.boolean('allowTestDevices', false) ?? false],
    ['beginDate', f.matching('beginDate', false, isoDateTime, 'a date-time')],
    ['expirationDate', f.matching('expirationDate', false, isoDateTime, 'a date-time')],
    ['relativeBeginDate', f.matching('relativeBeginDate', false, isoDuration, 'an ISO 8601 duration')],
    ['relativeExpirationDate', f.matching('relativeExpirationDate', false, isoDuration, 'an ISO 8601 duration')],
    ['gracePeriod', f.matching('gracePeriod', false, isoDuration, 'an ISO 8601 duration')],
    ['playRight', right && playRight(right)],
    ['licenseType', f.oneOf('licenseType', true, licenseTypes)],
    [
      'contentKeyLocation',
      compact([
        ['@odata.type', locationType],
        ['keyId', keyId?.toLowerCase()],
      ]),
    ],
    ['contentType', f.oneOf('contentType', true, contentTypes)],
    ['securityLevel', f.oneOf('securityLevel', false, securityLevels)],
  ]);
  f.done();
  return out;
}

/**
 * A PKCS #12 file is one DER SEQUENCE (RFC 7292 §4): checked for shape here, since Node cannot open PFX files;
 * the password is checked by the licence service that uses it.
 */
function isDerSequence(der: Buffer): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1];
  if (first < 0x80) return der.length === 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || der.length < 2 + lengthBytes) return false;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[2 + i];
  return der.length === 2 + lengthBytes + length;
}

function configuration(f: Fields): Json {
  const type = f.odataType(Object.values(configurationTypes));
  let out: Json;
  switch (type) {
    case odataTypes.widevineConfiguration: {
      const template = f.string('widevineTemplate', true) as string;
      let parsed: unknown;
      try {
        parsed = JSON.parse(template);
      } catch {
        fail(`${f.path}.widevineTemplate`, 'must be a JSON object written as a string');
      }
      if (!isObject(parsed)) fail(`${f.path}.widevineTemplate`, 'must be a JSON object written as a string');
      out = { '@odata.type': type, widevineTemplate: template };
      break;
    }
    case odataTypes.playReadyConfiguration: {
      const licenses = f.array('licenses', true) as Fields[];
      if (licenses.length === 0) fail(`${f.path}.licenses`, 'must hold at least one licence');
      out = compact([
        ['@odata.type', type],
        ['licenses', licenses.map(playReadyLicense)],
        ['responseCustomData', f.string('responseCustomData', false)],
      ]);
      break;
    }
    case odataTypes.fairPlayConfiguration: {
      const ask = f.bytes('ask', true, 16);
      const pfx = f.bytes('fairPlayPfx', true) as Buffer;
      if (!isDerSequence(pfx)) fail(`${f.path}.fairPlayPfx`, 'must be the base64 of a PKCS #12 (PFX) file');
      const rental = f.object('offlineRentalConfiguration', false);
      out = compact([
        ['@odata.type', type],
        ['ask', ask && f.raw('ask', true)],
        ['fairPlayPfxPassword', f.string('fairPlayPfxPassword', true)],
        ['fairPlayPfx', f.raw('fairPlayPfx', true)],
        ['rentalAndLeaseKeyType', f.oneOf('rentalAndLeaseKeyType', true, rentalTypes)],
        ['rentalDuration', f.integer('rentalDuration', true, 0)],
        [
          'offlineRentalConfiguration',
          rental &&
            compact([
              ['playbackDurationSeconds', rental.integer('playbackDurationSeconds', true, 0)],
              ['storageDurationSeconds', rental.integer('storageDurationSeconds', true, 0)],
            ]),
        ],
      ]);
      rental?.done();
      break;
    }
    default:
      // ClearKey and Unknown carry nothing but their type.
      out = { '@odata.type': type };
  }
  f.done();
  return out;
}

/** HS256 and friends need a key as long as the hash (RFC 7518 §3.2); below 128 bits a key is refused outright. */
const minSymmetricKeyBytes = 16;

function verificationKey(f: Fields): Json {
  const type = f.odataType([odataTypes.symmetricKey, odataTypes.rsaKey, odataTypes.x509Key]);
  let out: Json;
  if (type === odataTypes.symmetricKey) {
    const key = f.bytes('keyValue', true) as Buffer;
    if (key.length < minSymmetricKeyBytes) fail(`${f.path}.keyValue`, `must be the base64 of at least ${minSymmetricKeyBytes} bytes`);
    out = { '@odata.type': type, keyValue: f.raw('keyValue', true) };
  } else if (type === odataTypes.rsaKey) {
    const exponent = f.bytes('exponent', true) as Buffer;
    const modulus = f.bytes('modulus', true) as Buffer;
    try {
      const key = createPublicKey({ key: { kty: 'RSA', n: modulus.toString('base64url'), e: exponent.toString('base64url') }, format: 'jwk' });
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 1024) fail(`${f.path}.modulus`, 'must be an RSA modulus of at least 1024 bits');
    } catch (err) {
      if (err instanceof BadRequestError) throw err;
      fail(f.path, 'must hold an RSA public key (modulus and exponent)');
    }
    out = { '@odata.type': type, exponent: f.raw('exponent', true), modulus: f.raw('modulus', true) };
  } else {
    const der = f.bytes('rawBody', true) as Buffer;
    try {
      new X509Certificate(der);
    } catch {
      fail(`${f.path}.rawBody`, 'must be the base64 of a DER X.509 certificate');
    }
    out = { '@odata.type': type, rawBody: f.raw('rawBody', true) };
  }
  f.done();
  return out;
}

function restriction(f: Fields): Json {
  const type = f.odataType([odataTypes.openRestriction, odataTypes.tokenRestriction, odataTypes.unknownRestriction]);
  if (type !== odataTypes.tokenRestriction) {
    f.done();
    return { '@odata.type': type };
  }
  const discovery = f.string('openIdConnectDiscoveryDocument', false);
  if (discovery !== undefined && !isHttpUrl(discovery)) fail(`${f.path}.openIdConnectDiscoveryDocument`, 'must be an absolute http(s) URL');
  // With a discovery document the keys may come from its JWKS, so the primary key may be left out (as in AMS).
  const primary = f.object('primaryVerificationKey', discovery === undefined);
  const alternates = f.array('alternateVerificationKeys', false);
  const claims = f.array('requiredClaims', false);
  const out = compact([
    ['@odata.type', type],
    ['issuer', f.string('issuer', true, { minLength: 1, maxLength: 2048 })],
    ['audience', f.string('audience', true, { minLength: 1, maxLength: 2048 })],
    ['primaryVerificationKey', primary ? verificationKey(primary) : null],
    ['alternateVerificationKeys', alternates?.map(verificationKey)],
    [
      'requiredClaims',
      claims?.map((c) => {
        const claim = compact([
          ['claimType', c.string('claimType', true, { minLength: 1, maxLength: 2048 })],
          ['claimValue', c.string('claimValue', false, { maxLength: 2048 })],
        ]);
        c.done();
        return claim;
      }),
    ],
    // Key delivery validates JWT and SWT; `Unknown` names no format a token could be checked against.
    ['restrictionTokenType', f.oneOf('restrictionTokenType', true, ['Jwt', 'Swt'] as const)],
    ['openIdConnectDiscoveryDocument', discovery],
  ]);
  f.done();
  return out;
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

const configurationTypes = {
  clearKey: odataTypes.clearKeyConfiguration,
  widevine: odataTypes.widevineConfiguration,
  playReady: odataTypes.playReadyConfiguration,
  fairPlay: odataTypes.fairPlayConfiguration,
  unknown: odataTypes.unknownConfiguration,
} as const;

/**
 * Validates `properties.options` and returns them normalised (fields in MK.IO's order, nulls of unset optional
 * fields dropped), each with its `policyOptionId`: the one given when it is a GUID (a migrated policy keeps
 * its ids), else a new one.
 */
export function validateOptions(options: unknown): ContentKeyPolicyOption[] {
  const path = 'properties.options';
  if (!Array.isArray(options)) fail(path, 'must be an array');
  if (options.length === 0) fail(path, 'must hold at least one option');
  const ids = new Set<string>();
  return options.map((raw, i) => {
    if (!isObject(raw)) fail(`${path}[${i}]`, 'must be an object');
    const f = new Fields(raw, `${path}[${i}]`);
    const name = f.string('name', false, { maxLength: 1024 });
    const givenId = f.matching('policyOptionId', false, guid, 'a GUID');
    const policyOptionId = (givenId ?? newId()).toLowerCase();
    if (ids.has(policyOptionId)) fail(`${path}[${i}].policyOptionId`, 'is used by another option');
    ids.add(policyOptionId);
    const option: ContentKeyPolicyOption = {
      policyOptionId,
      ...(name !== undefined ? { name } : {}),
      configuration: configuration(f.object('configuration', true) as Fields) as ContentKeyPolicyOption['configuration'],
      restriction: restriction(f.object('restriction', true) as Fields) as ContentKeyPolicyOption['restriction'],
    };
    f.done();
    return option;
  });
}

/** Where an option keeps its secrets: FairPlay's ASk, PFX and password, and symmetric token keys. */
const secretFields: Record<string, readonly string[]> = {
  [odataTypes.fairPlayConfiguration]: ['ask', 'fairPlayPfx', 'fairPlayPfxPassword'],
  [odataTypes.symmetricKey]: ['keyValue'],
};

/** Every object of an option that may hold a secret, by a path that is the same in an option sent back. */
function* secretHolders(option: Json): Generator<[string, Json]> {
  if (isObject(option.configuration)) yield ['configuration', option.configuration];
  const r = option.restriction;
  if (!isObject(r)) return;
  if (isObject(r.primaryVerificationKey)) yield ['primary', r.primaryVerificationKey];
  if (Array.isArray(r.alternateVerificationKeys)) for (const [i, key] of r.alternateVerificationKeys.entries()) if (isObject(key)) yield [`alternate${i}`, key];
}

/**
 * The options as GET shows them: every secret replaced by `null`. MK.IO's schema marks these fields required
 * and nullable, so null (not omission) keeps responses valid; RSA and X.509 keys are public and stay.
 */
export function hideSecrets(options: ContentKeyPolicyOption[]): ContentKeyPolicyOption[] {
  const copy = structuredClone(options);
  for (const option of copy) {
    for (const [, holder] of secretHolders(option as unknown as Json)) {
      for (const field of secretFields[holder['@odata.type'] as string] ?? []) if (field in holder) holder[field] = null;
    }
  }
  return copy;
}

/**
 * A PATCH may send back what GET showed: a secret left `null` in an option that keeps its `policyOptionId` and
 * the type at that place keeps the stored secret, so a client never needs the secrets to change a description.
 */
export function restoreHiddenSecrets(sent: unknown, stored: ContentKeyPolicyOption[]): unknown {
  if (!Array.isArray(sent)) return sent;
  const byId = new Map(stored.map((o) => [o.policyOptionId, o as unknown as Json]));
  return sent.map((raw: unknown) => {
    if (!isObject(raw) || typeof raw.policyOptionId !== 'string') return raw;
    const before = byId.get(raw.policyOptionId.toLowerCase());
    if (!before) return raw;
    const option = structuredClone(raw);
    const previous = new Map(secretHolders(before));
    for (const [at, holder] of secretHolders(option)) {
      const old = previous.get(at);
      if (!old || old['@odata.type'] !== holder['@odata.type']) continue;
      for (const field of secretFields[holder['@odata.type'] as string] ?? [])
        if (holder[field] === null && typeof old[field] === 'string') holder[field] = old[field];
    }
    return option;
  });
}

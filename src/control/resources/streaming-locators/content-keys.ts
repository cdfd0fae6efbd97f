import { randomBytes } from 'node:crypto';
import type { StoredContentKey } from '../../../store/database.js';
import { BadRequestError } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import type { ContentKeyType } from '../../../shared/content-protection.js';
import type { PolicyContentKeys } from '../../../shared/streaming-policies.js';
import { encryptionBlocks, keyLabelsOf, type EncryptionBlock } from '../streaming-policies/encryption-blocks.js';

/** A `contentKeys[]` item of a locator PUT (§13): only `id` is required; `tracks` is read-only and ignored. */
export interface GivenContentKey {
  id: string;
  type?: string;
  value?: string;
  labelReferenceInStreamingPolicy?: string;
  policyName?: string;
}

/** A content key of a new locator: what is stored in the clear, plus its value (sealed before storing). */
export interface PlannedContentKey extends StoredContentKey {
  value: Buffer;
}

const typeOfBlock: Record<EncryptionBlock, ContentKeyType> = {
  envelopeEncryption: 'EnvelopeEncryption',
  commonEncryptionCenc: 'CommonEncryptionCenc',
  commonEncryptionCbcs: 'CommonEncryptionCbcs',
};
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** AES-128 for every scheme (CENC, CBCS and HLS envelope all use 128-bit keys). */
export const contentKeyBytes = 16;

function fail(path: string, problem: string): never {
  const message = `${path} ${problem}`;
  throw new BadRequestError('ValidationError', `Invalid request: ${message}`, { extraDetail: { errors: [message] } });
}

/** One key a streaming policy asks for: a scheme and a label, and the policy name the streaming policy gives it. */
interface KeySlot {
  type: ContentKeyType;
  label: string;
  policyName?: string;
}

/**
 * The keys a locator under this streaming policy needs: per encryption block, one per label (the default key's,
 * then each `keyToTrackMappings` entry's), each with the content key policy the streaming policy gives it
 * (mapping's, else the default key's, else the policy's `defaultContentKeyPolicyName`).
 */
function slotsOf(policy: Record<string, unknown>): KeySlot[] {
  const slots: KeySlot[] = [];
  const policyDefault = typeof policy.defaultContentKeyPolicyName === 'string' ? policy.defaultContentKeyPolicyName : undefined;
  for (const block of encryptionBlocks) {
    const value = policy[block] as { contentKeys?: PolicyContentKeys } | undefined;
    if (!value) continue;
    const keys = value.contentKeys;
    const defaultName = keys?.defaultKey?.policyName || policyDefault;
    const labels = keyLabelsOf(block, keys);
    labels.forEach((label, i) => {
      const own = i === 0 ? undefined : keys?.keyToTrackMappings?.[i - 1]?.policyName;
      slots.push({ type: typeOfBlock[block], label, policyName: own || defaultName });
    });
  }
  return slots;
}

/**
 * The content keys of a new locator: those given taken as given (a migrated locator keeps its key ids and values,
 * so licences already issued stay valid), the rest generated. Each given key must fit one of the streaming policy's
 * keys (type and label; the scheme's default key when no label is given) and no key may be given twice. A key's
 * policy is its own, else the streaming policy's, else the locator's `defaultContentKeyPolicyName`.
 */
export function planContentKeys(policy: Record<string, unknown>, given: GivenContentKey[] | undefined, locatorDefaultPolicy?: string): PlannedContentKey[] {
  const slots = slotsOf(policy);
  const chosen = new Map<KeySlot, GivenContentKey>();
  const ids = new Set<string>();
  for (const [i, key] of (given ?? []).entries()) {
    const at = `properties.contentKeys[${i}]`;
    const types = [...new Set(slots.map((s) => s.type))];
    if (types.length === 0) fail(`${at}`, 'cannot be given: the streaming policy encrypts nothing');
    let type = key.type;
    if (type === undefined) {
      // Without a type: the scheme whose keys carry the label, else the policy's only scheme, else
      // CommonEncryptionCenc, which the .NET client never writes (its enum's first value in a [DataContract] model).
      const label = key.labelReferenceInStreamingPolicy;
      const byLabel = label === undefined ? [] : [...new Set(slots.filter((s) => s.label === label).map((s) => s.type))];
      if (byLabel.length === 1) type = byLabel[0];
      else if (types.length === 1) type = types[0];
      else if (types.includes('CommonEncryptionCenc')) type = 'CommonEncryptionCenc';
      else fail(`${at}.type`, `is required when the streaming policy has several schemes (${types.join(', ')})`);
    }
    if (!types.includes(type as ContentKeyType)) fail(`${at}.type`, `must be one of the streaming policy's schemes (${types.join(', ')})`);
    const ofType = slots.filter((s) => s.type === type);
    const label = key.labelReferenceInStreamingPolicy ?? ofType[0]?.label;
    const slot = ofType.find((s) => s.label === label);
    if (!slot)
      fail(`${at}.labelReferenceInStreamingPolicy`, `must be a key label of ${type} in the streaming policy (${ofType.map((s) => s.label).join(', ')})`);
    if (chosen.has(slot)) fail(at, `is a second key for ${type} label '${slot.label}'`);
    const id = key.id.toLowerCase();
    if (ids.has(id)) fail(`${at}.id`, 'is the id of another key of this locator');
    ids.add(id);
    if (key.value !== undefined && (!base64.test(key.value) || Buffer.from(key.value, 'base64').length !== contentKeyBytes))
      fail(`${at}.value`, `must be the base64 of exactly ${contentKeyBytes} bytes`);
    chosen.set(slot, key);
  }
  return slots.map((slot) => {
    const key = chosen.get(slot);
    const policyName = key?.policyName || slot.policyName || locatorDefaultPolicy;
    let id = key?.id.toLowerCase();
    while (id === undefined || (!key && ids.has(id))) id = newId();
    return {
      id,
      type: slot.type,
      labelReferenceInStreamingPolicy: slot.label,
      ...(policyName ? { policyName } : {}),
      value: key?.value !== undefined ? Buffer.from(key.value, 'base64') : randomBytes(contentKeyBytes),
    };
  });
}

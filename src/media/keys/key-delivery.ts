import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressPolicy } from '../../shared/address-policy.js';
import type { ContentKey, ContentKeyType, ProtectionLookup } from '../../shared/content-protection.js';
import { ForbiddenError, NotFoundError, UnauthorizedError, UpstreamError } from '../../shared/errors.js';
import { clearKeyLicence, clearKeyRequestMaxBytes, parseClearKeyRequest } from './clearkey-licence.js';
import { CompiledPolicies, KeyAccessCheck, mostTelling, type CompiledPolicy, type KeyRefusal } from './key-access.js';
import { normalizeKeyId } from './key-id.js';
import { OpenIdKeySets } from './openid-key-sets.js';
import { presentedToken } from './presented-token.js';

export interface KeyDeliveryDeps {
  /** Locators' content keys and projects' content key policies (secrets unsealed). */
  lookup: ProtectionLookup;
  /** Which addresses an `openIdConnectDiscoveryDocument` (and its `jwks_uri`) may be fetched from (REEL_KEY_DELIVERY_ALLOW_PRIVATE). */
  addressPolicy: AddressPolicy;
  /** Seconds since the epoch, for token times; tests move the clock. */
  now?: () => number;
}

/** Keys the ClearKey licence server delivers: CENC and CBCS, and envelope keys (DASH with an envelope policy is CENC + ClearKey). */
const clearKeyTypes: ReadonlySet<ContentKeyType> = new Set(['CommonEncryptionCenc', 'CommonEncryptionCbcs', 'EnvelopeEncryption']);

const noStore = 'no-store';

/**
 * Key delivery (content-protection.ts `keyDeliveryPaths`), in every process that serves playback:
 * - `GET /keydelivery/{locatorId}/aes/{keyId}`: the 16 bytes of an envelope (HLS AES-128) key;
 * - `POST /keydelivery/{locatorId}/clearkey`: a W3C ClearKey licence for the locator's keys the request names.
 * A key goes out only when its content key policy has a ClearKey option whose restriction passes: Open, or a token
 * (`Authorization: Bearer …` or `?token=`) valid as the restriction says (token-restriction.ts). Refusals answer
 * 401 (no or invalid token), 403 (a valid token for another key; no usable policy), 404 (unknown locator or key)
 * or 502 (an identity provider's keys unreachable), each logged with its reason, never the token or a key.
 * Answers carry CORS for browser players and `cache-control: no-store`.
 */
export function registerKeyDelivery(app: FastifyInstance, deps: KeyDeliveryDeps): void {
  const policies = new CompiledPolicies();
  const verification = { openIdKeySets: new OpenIdKeySets({ policy: deps.addressPolicy }), ...(deps.now ? { now: deps.now } : {}) };

  /** The locator's keys, or 404. */
  const locatorKeysOf = async (req: FastifyRequest) => {
    const { locatorId: raw } = req.params as { locatorId: string };
    const locatorId = normalizeKeyId(raw);
    const locator = locatorId ? await deps.lookup.locatorKeys(locatorId) : undefined;
    if (!locatorId || !locator) {
      refusalLog(req, raw, undefined, 404, 'no such streaming locator');
      throw new NotFoundError('LocatorNotFound', `Streaming locator '${raw}' not found`);
    }
    return { locatorId, locator };
  };

  /** The content key policies of one request's keys, each looked up and compiled once. */
  const policyReader = (projectId: string) => {
    const seen = new Map<string, Promise<CompiledPolicy | undefined>>();
    return (name: string | undefined): Promise<CompiledPolicy | undefined> => {
      if (!name) return Promise.resolve(undefined);
      let p = seen.get(name);
      if (!p) {
        p = deps.lookup.contentKeyPolicy(projectId, name).then((policy) => (policy ? policies.get(projectId, policy) : undefined));
        seen.set(name, p);
      }
      return p;
    };
  };

  const aes = async (req: FastifyRequest, reply: FastifyReply) => {
    const { locatorId, locator } = await locatorKeysOf(req);
    const raw = (req.params as { keyId: string }).keyId;
    const keyId = normalizeKeyId(raw);
    // Any of the locator's keys: the HLS AES-128 key, and the CENC/CBCS keys Shaka fetches raw for HLS
    // `KEYFORMAT="identity"`; either way only a ClearKey option of the key's policy releases it.
    const key = keyId ? locator.keys.find((k) => k.id.toLowerCase() === keyId) : undefined;
    if (!key) {
      refusalLog(req, locatorId, keyId ?? raw, 404, 'no such key in the locator');
      throw new NotFoundError('ContentKeyNotFound', `Content key '${raw}' not found in streaming locator '${locatorId}'`);
    }
    const check = new KeyAccessCheck(presentedToken(req), verification);
    const allowed = await check.check(key, await policyReader(locator.projectId)(key.policyName));
    if (allowed !== true) {
      refusalLog(req, locatorId, key.id, allowed.status, allowed.reason);
      throw refusalError(allowed, reply);
    }
    return reply.type('application/octet-stream').send(key.value);
  };

  const clearKey = async (req: FastifyRequest, reply: FastifyReply) => {
    const { locatorId, locator } = await locatorKeysOf(req);
    const requested = parseClearKeyRequest(req.body);
    const keys: ContentKey[] = [];
    for (const id of requested) {
      const key = locator.keys.find((k) => k.id.toLowerCase() === id && clearKeyTypes.has(k.type));
      if (key) keys.push(key);
      else refusalLog(req, locatorId, id, 404, 'no such key in the locator');
    }
    if (keys.length === 0) throw new NotFoundError('ContentKeyNotFound', `None of the requested content keys was found in streaming locator '${locatorId}'`);
    const check = new KeyAccessCheck(presentedToken(req), verification);
    const policyOf = policyReader(locator.projectId);
    const delivered: ContentKey[] = [];
    const refusals: KeyRefusal[] = [];
    // A licence holds the keys the token allows; the player cannot use the others (EME: a partial licence is valid).
    for (const key of keys) {
      const allowed = await check.check(key, await policyOf(key.policyName));
      if (allowed === true) delivered.push(key);
      else {
        refusalLog(req, locatorId, key.id, allowed.status, allowed.reason);
        refusals.push(allowed);
      }
    }
    if (delivered.length === 0) throw refusalError(mostTelling(refusals), reply);
    return reply.type('application/json').send(clearKeyLicence(delivered));
  };

  const preflight = async (req: FastifyRequest, reply: FastifyReply) =>
    reply
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', 'authorization, content-type')
      .header('access-control-max-age', '86400')
      .code(204)
      .send();

  void app.register(async (scope) => {
    // Browser players fetch keys cross-origin; errors carry CORS too, or a player sees a 401 as a network failure.
    // Nothing here is stored by a cache, refusals included (a 401 must not outlive the token that fixes it).
    scope.addHook('onRequest', async (_req, reply) => {
      void reply.header('access-control-allow-origin', '*').header('cache-control', noStore);
    });
    // EME players post the licence request with whatever content type (or none): read the bytes, parse them here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: clearKeyRequestMaxBytes }, (_req, body, done) => done(null, body));
    const params = { type: 'object', properties: { locatorId: { type: 'string' }, keyId: { type: 'string' } } } as const;
    const query = { type: 'object', properties: { token: { type: 'string' } } } as const;
    scope.get('/keydelivery/:locatorId/aes/:keyId', { schema: { hide: true, params, querystring: query } }, aes);
    scope.post('/keydelivery/:locatorId/clearkey', { schema: { hide: true, params, querystring: query } }, clearKey);
    scope.options('/keydelivery/:locatorId/aes/:keyId', { schema: { hide: true } }, preflight);
    scope.options('/keydelivery/:locatorId/clearkey', { schema: { hide: true } }, preflight);
  });
}

/** Each refusal, with why; never the token (not even in the URL: the query is left out) nor key bytes. */
function refusalLog(req: FastifyRequest, locatorId: string, keyId: string | undefined, status: number, reason: string): void {
  req.log.info({ component: 'key-delivery', locatorId, keyId, status, reason }, 'key delivery refused');
}

/** The client hears the class of refusal; the reason stays in the log. */
function refusalError(refusal: KeyRefusal, reply: FastifyReply): Error {
  if (refusal.status === 401) {
    void reply.header('www-authenticate', 'Bearer');
    return new UnauthorizedError('Unauthorized', 'A valid token is required for this content key: it is missing, invalid or expired');
  }
  if (refusal.status === 403) return new ForbiddenError('Forbidden', 'This content key is not delivered to this token');
  return new UpstreamError('KeyDeliveryUnavailable', "The token cannot be checked now: the identity provider's keys could not be read", { status: 502 });
}

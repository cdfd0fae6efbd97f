import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { AddressRefusedError, type AddressPolicy } from '../../shared/address-policy.js';
import { guardedFetch } from './guarded-fetch.js';

/** The identity provider could not be asked for its keys: a token signed with them can be neither accepted nor refused. */
export class KeySetUnavailableError extends Error {}

export interface OpenIdKeySetsOptions {
  /** Which addresses may be reached (REEL_KEY_DELIVERY_ALLOW_PRIVATE). */
  policy: AddressPolicy;
  /** Per request to the identity provider (default 5 s). */
  timeoutMs?: number;
  /** How long a discovery document is kept (default 1 h); the key set itself is refreshed by jose (10 min, or on an unknown `kid`). */
  discoveryTtlMs?: number;
  /** How long a failed discovery is remembered, so a down provider is not asked on every key request (default 10 s). */
  failureTtlMs?: number;
}

interface Entry {
  expires: number;
  keySet: Promise<JWTVerifyGetKey>;
}

/**
 * The JWK sets of restrictions with an `openIdConnectDiscoveryDocument`: the discovery document is fetched, then
 * its `jwks_uri` through jose's remote key set (cached, refetched when a token names an unknown `kid`), both
 * through the guarded fetch. One entry per discovery URL, shared by every policy naming it.
 */
export class OpenIdKeySets {
  private readonly entries = new Map<string, Entry>();
  private readonly fetch: ReturnType<typeof guardedFetch>;
  private readonly timeoutMs: number;

  constructor(private readonly options: OpenIdKeySetsOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetch = guardedFetch(options.policy, this.timeoutMs);
  }

  /** The key set behind `discoveryUrl`; throws KeySetUnavailableError. */
  async keySetFor(discoveryUrl: string): Promise<JWTVerifyGetKey> {
    const now = Date.now();
    let entry = this.entries.get(discoveryUrl);
    if (!entry || entry.expires <= now) {
      const keySet = this.discover(discoveryUrl);
      entry = { expires: now + (this.options.discoveryTtlMs ?? 3_600_000), keySet };
      this.entries.set(discoveryUrl, entry);
      const failed = entry;
      keySet.catch(() => {
        failed.expires = Math.min(failed.expires, Date.now() + (this.options.failureTtlMs ?? 10_000));
      });
      if (this.entries.size > 1000) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry.keySet;
  }

  private async discover(discoveryUrl: string): Promise<JWTVerifyGetKey> {
    let jwksUri: unknown;
    try {
      const res = await this.fetch(discoveryUrl);
      if (res.status !== 200) throw new KeySetUnavailableError(`the OpenID discovery document answered HTTP ${res.status}`);
      jwksUri = ((await res.json()) as { jwks_uri?: unknown } | null)?.jwks_uri;
    } catch (e) {
      throw unavailable(e, 'the OpenID discovery document could not be read');
    }
    if (typeof jwksUri !== 'string') throw new KeySetUnavailableError('the OpenID discovery document has no jwks_uri');
    let url: URL;
    try {
      url = new URL(jwksUri);
    } catch {
      throw new KeySetUnavailableError('the jwks_uri of the OpenID discovery document is not a URL');
    }
    return createRemoteJWKSet(url, {
      timeoutDuration: this.timeoutMs,
      [customFetch]: this.fetch as unknown as typeof fetch,
    });
  }
}

function unavailable(e: unknown, what: string): KeySetUnavailableError {
  if (e instanceof KeySetUnavailableError) return e;
  const why =
    e instanceof AddressRefusedError ? e.message + (e.reason === 'private' ? ' (REEL_KEY_DELIVERY_ALLOW_PRIVATE=true allows it)' : '') : (e as Error).message;
  return new KeySetUnavailableError(`${what}: ${why}`, { cause: e });
}

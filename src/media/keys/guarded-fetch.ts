import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkOutboundUrl, type AddressPolicy } from '../../shared/address-policy.js';

/** Largest body read from an identity provider (a discovery document or a JWK set is a few KiB). */
const maxBodyBytes = 1024 * 1024;

type Addresses = Array<{ address: string; family: 4 | 6 }>;

/** A lookup that answers with the addresses already checked, so the name is never resolved again. */
function pinnedLookup(addresses: Addresses): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((a) => !family || a.family === family);
    if (usable.length === 0) {
      callback(Object.assign(new Error('no checked address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) (callback as unknown as (err: null, list: Addresses) => void)(null, usable);
    else callback(null, usable[0].address, usable[0].family);
  };
}

/**
 * A `fetch` for URLs a tenant gave (an OpenID discovery document and its `jwks_uri`): the URL must pass the
 * outbound address policy (`checkOutboundUrl`: no loopback or private addresses unless
 * REEL_KEY_DELIVERY_ALLOW_PRIVATE=true), the connection goes to exactly the checked addresses, redirects are
 * not followed and the body is capped. Shaped like jose's `customFetch` (GET only).
 */
export function guardedFetch(policy: AddressPolicy, timeoutMs: number) {
  return async (raw: string, init?: { headers?: Headers; signal?: AbortSignal }): Promise<Response> => {
    const { url, addresses } = await checkOutboundUrl(raw, policy);
    const client = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'user-agent': 'Reel', accept: 'application/json', 'accept-encoding': 'identity' };
    init?.headers?.forEach((value, name) => {
      if (name === 'accept') headers.accept = value;
    });
    return new Promise<Response>((resolve, reject) => {
      const req = client.request(url, {
        method: 'GET',
        lookup: pinnedLookup(addresses),
        agent: false,
        headers,
        signal: init?.signal ?? AbortSignal.timeout(timeoutMs),
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) req.destroy(new Error(`the answer of ${url.host} is larger than ${maxBodyBytes} bytes`));
          else chunks.push(chunk);
        });
        res.once('error', reject);
        res.once('end', () => {
          const status = res.statusCode ?? 502;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status: status >= 200 && status <= 599 ? status : 502 }));
        });
      });
      req.end();
    });
  };
}

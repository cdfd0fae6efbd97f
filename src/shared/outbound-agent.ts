import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { AddressRefusedError, isAllowedHostPort, isPrivateAddress, type AddressPolicy } from './address-policy.js';

/** `code` of the error a guarded agent fails a request with, so drivers can tell a refusal from a network error. */
export const addressRefusedCode = 'ERR_REEL_ADDRESS_REFUSED';

function refused(host: string, message: string): AddressRefusedError & { code: string } {
  return Object.assign(new AddressRefusedError(host, 'private', message), { code: addressRefusedCode });
}

const privateMessage = (host: string) =>
  `The host '${host}' resolves to a local or private address, which this server does not connect to on a tenant's behalf`;

/**
 * A DNS lookup that fails when any address of the name is private, and otherwise hands the checked addresses
 * straight to the socket: the addresses checked are the addresses connected to, so a DNS answer that changes
 * between a check and a connect is never followed.
 */
function guardedLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses;
      if (list.length === 0 || list.some((a) => isPrivateAddress(a.address))) {
        return callback(refused(hostname, privateMessage(hostname)), '', 4);
      }
      if (options.all) return callback(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
}

type ConnectionCallback = (err: Error | null, stream: Duplex) => void;

/**
 * Checks every connection the agent opens, not just the URL a tenant typed: storage SDKs follow redirects,
 * derive hosts from bucket and region, retry and reconnect long after an account was created, and DNS may
 * change in between. Hosts on the operator's allow list connect as usual.
 */
function guard(agent: http.Agent, policy: AddressPolicy): void {
  if (policy.allowPrivate) return;
  const createConnection: (options: http.ClientRequestArgs, callback?: ConnectionCallback) => Duplex | null | undefined = agent.createConnection.bind(agent);
  const lookup = guardedLookup();
  agent.createConnection = (options: http.ClientRequestArgs, callback?: ConnectionCallback) => {
    const host = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? (agent instanceof https.Agent ? 443 : 80));
    if (isAllowedHostPort(host, port, policy)) return createConnection(options, callback);
    if (isIP(host)) {
      if (isPrivateAddress(host)) {
        const err = refused(host, privateMessage(host));
        // The agent reports an error given to the callback as the request's error.
        process.nextTick(() => callback?.(err, undefined as unknown as Duplex));
        return undefined;
      }
      return createConnection(options, callback);
    }
    return createConnection({ ...options, lookup }, callback);
  };
}

/** Keep-alive agents for HTTP and HTTPS whose every connection obeys `policy`. */
export function guardedAgents(policy: AddressPolicy): { http: http.Agent; https: https.Agent } {
  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 50 }), https: new https.Agent({ keepAlive: true, maxSockets: 50 }) };
  guard(agents.http, policy);
  guard(agents.https, policy);
  return agents;
}

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses Reel may open on a tenant's behalf (job inputs, storage endpoints, webhooks): not this
 * machine and not private networks, unless the operator says so. One policy for every outbound path so a bypass
 * fixed in one place is fixed everywhere.
 */
export interface AddressPolicy {
  /** Let every address through (closed networks; REEL_*_ALLOW_PRIVATE=true). */
  allowPrivate: boolean;
  /**
   * Hosts the operator trusts even on private addresses (e.g. a local MinIO or Azurite), as `host` or
   * `host:port`, compared case-insensitively with the URL's host.
   */
  allowedHosts?: readonly string[];
}

const v4 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  v4.addSubnet(net, prefix, 'ipv4');

const v6 = new BlockList();
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  v6.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (dotted) return dotted;
  const groups = expandIpv6(lower);
  if (!groups) return undefined;
  const toV4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const isNat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (isMapped || isNat64) return toV4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return toV4(groups[1], groups[2]);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  if (address.includes('.')) return undefined;
  const [head, tail] = address.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = part(head);
  const t = part(tail);
  const fill = address.includes('::') ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array<number>(fill).fill(0), ...t];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** True for loopback, private, link-local, shared, reserved and multicast addresses (and IPv6 forms embedding them). */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return v4.check(bare, 'ipv4');
  if (family !== 6) return true; // not an address at all: never treat it as public
  const embedded = embeddedIpv4(bare);
  if (embedded) return v4.check(embedded, 'ipv4');
  return v6.check(bare, 'ipv6');
}

/** Why an address was refused; callers turn it into their own error (EncodeError, BadRequestError …). */
export class AddressRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly reason: 'private' | 'unresolvable' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** Backslashes, whitespace, control characters or their percent escapes: what URL parsers read differently. */
export function hasAmbiguousCharacters(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\\\s\u0000-\u001f\u007f]/.test(text) || /%(?:0[0-9a-f]|1[0-9a-f]|7f|5c)/i.test(text);
}

/**
 * Characters on which URL parsers disagree (WHATWG URL, ffmpeg's, curl's): backslashes, whitespace and control
 * characters, and user-info. A URL with any of them could name one host to the check and another to the fetcher,
 * so it is refused outright rather than normalised.
 */
export function assertUnambiguousUrl(raw: string): URL {
  if (hasAmbiguousCharacters(raw)) {
    throw new AddressRefusedError(raw, 'malformed', 'The URL contains backslashes, spaces, control characters or their escapes');
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AddressRefusedError(raw, 'malformed', 'The URL is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AddressRefusedError(url.host, 'malformed', `The URL scheme '${url.protocol}' is not allowed (http or https only)`);
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(raw)) {
    throw new AddressRefusedError(url.host, 'malformed', 'The URL must not carry a user name or password');
  }
  // The host part as typed must be what the parser understood (no "%2e"-style tricks in the authority).
  const typedAuthority = /^[a-z]+:\/\/([^/?#]*)/i.exec(raw)?.[1]?.toLowerCase() ?? '';
  if (typedAuthority !== url.host.toLowerCase() && typedAuthority !== `${url.host.toLowerCase()}:${url.protocol === 'https:' ? 443 : 80}`) {
    throw new AddressRefusedError(url.host, 'malformed', "The URL's host is written in a form that parsers read differently");
  }
  return url;
}

const isAllowedHost = (url: URL, policy: AddressPolicy) => isAllowedHostPort(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)), policy);

/**
 * Whether the operator's allow list names this host (`host`, `host:port`, `[v6]` or `[v6]:port`, any case).
 * Takes the host and port as a connection sees them, so a socket-level check and a URL check agree.
 */
export function isAllowedHostPort(hostname: string, port: number, policy: AddressPolicy): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (policy.allowedHosts ?? []).some((entry) => {
    const e = entry.trim().toLowerCase();
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(e) ?? (e.split(':').length > 2 ? [e, e, undefined] : /^([^:]+)(?::(\d+))?$/.exec(e));
    if (!m) return false;
    return m[1] === bare && (m[2] === undefined || Number(m[2]) === port);
  });
}

/**
 * Resolves the URL's host and checks every address it resolves to against the policy. Returns the addresses so a
 * caller can connect to exactly those (pinning: a DNS answer that changes between check and connect is not
 * followed). Throws AddressRefusedError.
 */
export async function resolveAllowedAddresses(url: URL, policy: AddressPolicy): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: Array<{ address: string; family: 4 | 6 }>;
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch {
      throw new AddressRefusedError(host, 'unresolvable', `The host '${host}' could not be resolved`);
    }
    if (addresses.length === 0) throw new AddressRefusedError(host, 'unresolvable', `The host '${host}' could not be resolved`);
  }
  if (policy.allowPrivate || isAllowedHost(url, policy)) return addresses;
  const blocked = addresses.find((a) => isPrivateAddress(a.address));
  if (blocked) {
    throw new AddressRefusedError(
      host,
      'private',
      `The host '${host}' resolves to a local or private address (${blocked.address}), which this server does not connect to on a tenant's behalf`,
    );
  }
  return addresses;
}

/** `assertUnambiguousUrl` then `resolveAllowedAddresses`: the one check for a URL a tenant gave us. */
export async function checkOutboundUrl(raw: string, policy: AddressPolicy): Promise<{ url: URL; addresses: Array<{ address: string; family: 4 | 6 }> }> {
  const url = assertUnambiguousUrl(raw);
  return { url, addresses: await resolveAllowedAddresses(url, policy) };
}

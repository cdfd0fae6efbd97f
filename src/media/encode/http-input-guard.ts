import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { EncodeError } from './encode-engine.js';

/** Addresses a job's HTTP input may not reach unless the operator allows it: this machine and private networks. */
const privateRanges = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv6');
}

function isPrivate(address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged by its IPv4 part.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return mapped ? privateRanges.check(mapped, 'ipv4') : privateRanges.check(address, family);
}

/**
 * Refuses a `JobInputHttp` URL that leads to this machine or a private network (cloud metadata at
 * 169.254.169.254, databases, admin consoles): a tenant could otherwise make the worker fetch them. URLs on Reel's
 * own origins (its signed `/files` URLs) are always allowed; `allowPrivate` lifts the rule for closed networks.
 * The name is resolved here, and ffmpeg resolves it again: a DNS answer that changes in between is not caught, so
 * operators exposing job submission to untrusted users should also restrict the workers' egress.
 */
export async function checkHttpInput(url: string, options: { allowPrivate: boolean; trustedOrigins: string[] }): Promise<void> {
  const parsed = new URL(url);
  if (options.allowPrivate || options.trustedOrigins.includes(parsed.origin)) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw new EncodeError('DownloadNotAccessible', `The input host '${host}' could not be resolved`);
  }
  const blocked = addresses.find(isPrivate);
  if (blocked) {
    throw new EncodeError('DownloadNotAccessible', `The input URL's host '${host}' resolves to a local or private address (${blocked}); this server does not fetch job inputs from there (REEL_JOB_HTTP_ALLOW_PRIVATE=true allows it)`);
  }
}

import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Whether `address` falls in any allow entry (`address` + `subnetPrefixLength`, default a single host). */
export function isAllowedAddress(address: string, allow: ReadonlyArray<{ address: string; subnetPrefixLength?: number }>): boolean {
  const list = new BlockList();
  for (const entry of allow) {
    const type = isIPv6(entry.address) ? 'ipv6' : isIPv4(entry.address) ? 'ipv4' : undefined;
    if (!type) continue;
    list.addSubnet(entry.address, entry.subnetPrefixLength ?? (type === 'ipv4' ? 32 : 128), type);
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const candidate = mapped ?? address;
  return list.check(candidate, isIPv6(candidate) ? 'ipv6' : 'ipv4');
}

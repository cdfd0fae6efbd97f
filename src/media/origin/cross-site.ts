/**
 * Browser origins allowed to fetch from an endpoint. Without crossSiteAccessPolicies every origin may (AMS's
 * default). With one, the domains its Silverlight/Flash policy XML lists are allowed (`*` in it = all).
 */
export function crossSiteOrigins(policies: unknown): '*' | string[] {
  const p = policies as { clientAccessPolicy?: string | null; crossDomainPolicy?: string | null } | undefined;
  if (!p || (!p.clientAccessPolicy && !p.crossDomainPolicy)) return '*';
  const domains: string[] = [];
  for (const xml of [p.clientAccessPolicy ?? '', p.crossDomainPolicy ?? '']) {
    for (const m of xml.matchAll(/<domain\s+uri="([^"]+)"/gi)) domains.push(m[1]);
    for (const m of xml.matchAll(/<allow-access-from\s+domain="([^"]+)"/gi)) domains.push(m[1]);
  }
  if (domains.includes('*')) return '*';
  return domains.map((d) => (/^https?:\/\//i.test(d) ? d.replace(/\/+$/, '') : `https://${d}`));
}

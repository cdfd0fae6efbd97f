/** MK.IO timestamps: UTC, six fractional digits, `Z` (e.g. 2024-03-26T14:51:19.125280Z). */
export function toMkioTime(iso: string | Date): string {
  // Stored timestamps are already `toISOString()` output; only pad their milliseconds (hot in list responses).
  if (typeof iso === 'string' && iso.length === 24 && iso.charCodeAt(19) === 46 && iso.charCodeAt(23) === 90) return `${iso.slice(0, 23)}000Z`;
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const nowIso = (): string => new Date().toISOString();

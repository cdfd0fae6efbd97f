/** MK.IO timestamps: UTC, six fractional digits, `Z` (e.g. 2024-03-26T14:51:19.125280Z). */
export function toMkioTime(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const nowIso = (): string => new Date().toISOString();

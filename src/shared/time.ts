/** MK.IO timestamps: UTC, six fractional digits, `Z` (e.g. 2024-03-26T14:51:19.125280Z). */
export function toMkioTime(iso: string | Date): string {
  // Stored timestamps are already `toISOString()` output; only pad their milliseconds (hot in list responses).
  if (typeof iso === 'string' && iso.length === 24 && iso.charCodeAt(19) === 46 && iso.charCodeAt(23) === 90) return `${iso.slice(0, 23)}000Z`;
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const nowIso = (): string => new Date().toISOString();

/**
 * Seconds of an ISO 8601 duration, or `undefined` when the text is not one (years and months are refused: their
 * length varies). The one reader for every duration Reel takes (live event key frame intervals, live output
 * windows, job input clips, preset fields): weeks, fractions and lower case are accepted, as ISO 8601 allows.
 */
export function parseIsoDurationSec(text: string): number | undefined {
  const m = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text.trim());
  if (!m || text.trim().toUpperCase() === 'P' || /T$/i.test(text.trim())) return undefined;
  const [, w, d, h, min, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  return (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
}

/** FNV-1a of a string's UTF-16 code units, base 36: short validators (ETags) that change when the text does. */
export function hashText(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

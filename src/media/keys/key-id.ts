/**
 * Content key ids as they reach key delivery: a GUID in a URL path, in a token's key id claim (any case, with or
 * without braces, or AMS v2's `nb:kid:UUID:` prefix), or as 16 base64url bytes in a ClearKey request.
 */

const guidText = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The lower-case GUID `text` names, or undefined when it is not one. */
export function normalizeKeyId(text: string): string | undefined {
  let t = text.trim().toLowerCase();
  if (t.startsWith('nb:kid:uuid:')) t = t.slice('nb:kid:uuid:'.length);
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  return guidText.test(t) ? t : undefined;
}

/** The 16 KID bytes of a key id GUID, in the order written (as in `tenc`, PSSH and `cenc:default_KID`). */
export function keyIdBytes(keyId: string): Buffer {
  return Buffer.from(keyId.replace(/-/g, ''), 'hex');
}

/** The GUID of 16 KID bytes, lower case. */
export function keyIdFromBytes(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

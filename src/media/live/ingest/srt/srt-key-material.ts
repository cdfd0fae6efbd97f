import crypto from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2 = promisify(crypto.pbkdf2);

/**
 * SRT's key material message (draft-sharabayko-srt, "Key Material"), as a caller sends it in its conclusion's
 * KMREQ extension: the salt and the stream encrypting key(s) wrapped (RFC 3394) with a key derived from the
 * passphrase. Unlike the stream id, libsrt puts it on the wire in byte order (checked on captured ffmpeg 5.1 /
 * libsrt 1.5 packets, see the test).
 */
export interface KeyMaterial {
  /** The salt (16 bytes with ffmpeg); the key derivation uses its last 8 bytes. */
  salt: Buffer;
  /** Key length in bytes: 16, 24 or 32 (AES-128/192/256). */
  keyLength: number;
  /** The wrapped key(s): one or two keys (even and odd) of `keyLength` bytes plus the 8-byte integrity block. */
  wrapped: Buffer;
}

const fixedHeaderBytes = 16;
/** The RFC 3394 default initial value: unwrapping with a wrong key fails its integrity check. */
const wrapIv = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const kekIterations = 2048;
const wrapCipher: Record<number, string> = { 16: 'id-aes128-wrap', 24: 'id-aes192-wrap', 32: 'id-aes256-wrap' };

/** Reads a KMREQ extension's content; undefined when it is not a key material message this code knows. */
export function parseKeyMaterial(data: Buffer): KeyMaterial | undefined {
  if (data.length < fixedHeaderBytes) return undefined;
  // Version 1, packet type 2 (KMmsg), signature 0x2029 ("HAI" in PnP vendor format).
  if (data[0] !== 0x12 || data.readUInt16BE(1) !== 0x2029) return undefined;
  const keys = data[3] & 0x03; // 1 even, 2 odd, 3 both
  const saltLength = data[14] * 4;
  const keyLength = data[15] * 4;
  if (keys === 0 || wrapCipher[keyLength] === undefined || saltLength < 8) return undefined;
  const wrappedLength = (keys === 3 ? 2 : 1) * keyLength + 8;
  const end = fixedHeaderBytes + saltLength + wrappedLength;
  if (data.length < end) return undefined;
  return { salt: data.subarray(fixedHeaderBytes, fixedHeaderBytes + saltLength), keyLength, wrapped: data.subarray(fixedHeaderBytes + saltLength, end) };
}

/**
 * Whether the key material was made with `passphrase`: the key encrypting key is PBKDF2-HMAC-SHA1 of the
 * passphrase over the salt's last 8 bytes (2048 rounds), and only the right one passes the key unwrap's integrity
 * check. The derivation runs on libuv's thread pool, off the event loop.
 */
export async function madeWithPassphrase(km: KeyMaterial, passphrase: string): Promise<boolean> {
  const kek = await pbkdf2(passphrase, km.salt.subarray(km.salt.length - 8), kekIterations, km.keyLength, 'sha1');
  try {
    const decipher = crypto.createDecipheriv(wrapCipher[km.keyLength], kek, wrapIv);
    decipher.update(km.wrapped);
    decipher.final();
    return true;
  } catch {
    return false;
  }
}

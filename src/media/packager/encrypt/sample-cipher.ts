/**
 * Encrypts samples in place (ISO/IEC 23001-7): the bytes stay in the buffer they were read into, so the
 * origin sends the same pooled views it would send clear. OpenSSL does the AES (Node's cipher); its
 * `update` returns a new buffer, which is copied back over the input (measured cheaper than XOR-ing a
 * keystream in JavaScript: docs/BENCHMARKS.md, "Segment encryption"). Inputs go to `update` in slices of
 * at most UPDATE_SLICE bytes, so its output is a small short-lived buffer instead of one as large as a key
 * frame (~400 KB at 1080p) or a whole envelope segment (~1.3 MB): equal CPU on Node 24 in the micro-benchmark,
 * while on Node 20 one such large `update` measured several times slower.
 */
import crypto from 'node:crypto';

const BLOCK = 16;

/** Pattern of `cbcs` video: 1 block encrypted, 9 clear (ISO/IEC 23001-7 §10.4.2). */
export const CBCS_CRYPT_BLOCKS = 1;
export const CBCS_SKIP_BLOCKS = 9;

/** Largest input of one `update` (CTR and CBC carry their state across calls, so slicing changes no byte). */
const UPDATE_SLICE = 64 * 1024;

function encryptInPlace(cipher: crypto.Cipheriv, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.byteLength; at += UPDATE_SLICE) {
    const slice = bytes.subarray(at, Math.min(at + UPDATE_SLICE, bytes.byteLength));
    slice.set(cipher.update(slice));
  }
}

/** The first counter block of a `cenc` sample; createCipheriv copies it. */
const counterBlock = new Uint8Array(16);

/**
 * `cenc` (AES-128-CTR): the protected ranges of `subsamples` ([clear, protected, …], or the whole sample when
 * undefined) as one keystream from `iv` (8-byte IV, 8-byte block counter from 0; §9.3).
 */
export function encryptCenc(key: Uint8Array, iv8: Uint8Array, sample: Uint8Array, subsamples?: ArrayLike<number>, first = 0, pairs = 0): void {
  counterBlock.set(iv8.subarray(0, 8)); // bytes 8..15 (the block counter) stay 0
  const cipher = crypto.createCipheriv('aes-128-ctr', key, counterBlock);
  if (subsamples === undefined) {
    if (sample.byteLength > 0) encryptInPlace(cipher, sample);
    return;
  }
  let at = 0;
  for (let p = 0; p < pairs; p++) {
    at += subsamples[first + 2 * p];
    const length = subsamples[first + 2 * p + 1];
    if (length > 0) encryptInPlace(cipher, sample.subarray(at, at + length));
    at += length;
  }
}

let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * `cbcs` (AES-128-CBC, constant IV): each protected range restarts the chain from `iv` (§10.4.1). With a
 * pattern, its blocks go 1 encrypted, 9 clear and the chain runs through the encrypted ones only: those are
 * gathered, encrypted in one call and put back. A trailing partial block stays clear. Whole-sample (audio):
 * every full block of the sample, no pattern.
 */
export function encryptCbcs(key: Uint8Array, iv: Uint8Array, sample: Uint8Array, subsamples?: ArrayLike<number>, first = 0, pairs = 0): void {
  if (subsamples === undefined) {
    const full = sample.byteLength - (sample.byteLength % BLOCK);
    if (full > 0) cbcRange(key, iv, sample.subarray(0, full));
    return;
  }
  let at = 0;
  for (let p = 0; p < pairs; p++) {
    at += subsamples[first + 2 * p];
    const length = subsamples[first + 2 * p + 1];
    if (length >= BLOCK) patternRange(key, iv, sample.subarray(at, at + length));
    at += length;
  }
}

function cbcRange(key: Uint8Array, iv: Uint8Array, bytes: Uint8Array): void {
  const cipher = crypto.createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  encryptInPlace(cipher, bytes);
}

function patternRange(key: Uint8Array, iv: Uint8Array, range: Uint8Array): void {
  const period = (CBCS_CRYPT_BLOCKS + CBCS_SKIP_BLOCKS) * BLOCK;
  const blocks = Math.floor(range.byteLength / BLOCK);
  const periods = Math.ceil(blocks / (CBCS_CRYPT_BLOCKS + CBCS_SKIP_BLOCKS));
  // Encrypted blocks of each period: CBCS_CRYPT_BLOCKS, fewer in a last period cut short.
  let total = 0;
  for (let k = 0; k < periods; k++) total += Math.min(CBCS_CRYPT_BLOCKS, blocks - k * (CBCS_CRYPT_BLOCKS + CBCS_SKIP_BLOCKS)) * BLOCK;
  if (scratch.byteLength < total) scratch = Buffer.allocUnsafeSlow(Math.max(total, 2 * scratch.byteLength));
  // Blocks are moved byte by byte: a subarray per 16-byte block (thousands per frame) cost more than the AES and
  // fed the garbage collector (docs/BENCHMARKS.md, "Content protection").
  let g = 0;
  for (let k = 0; k < periods && g < total; k++) {
    const n = Math.min(CBCS_CRYPT_BLOCKS * BLOCK, total - g);
    for (let b = 0, from = k * period; b < n; b++) scratch[g + b] = range[from + b];
    g += n;
  }
  const out = scratch.subarray(0, total);
  encryptInPlace(crypto.createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false), out);
  g = 0;
  for (let k = 0; k < periods && g < total; k++) {
    const n = Math.min(CBCS_CRYPT_BLOCKS * BLOCK, total - g);
    for (let b = 0, to = k * period; b < n; b++) range[to + b] = out[g + b];
    g += n;
  }
}

/**
 * HLS AES-128 envelope (RFC 8216 §4.3.2.4): `chunks` as one AES-128-CBC stream with PKCS#7 padding,
 * written back over the chunks themselves (which must belong to the caller: built boxes, buffers it read
 * into). Returns the encrypted body: the chunks, the last ones shortened by the bytes that went into the
 * final block, then that block. Its size is the clear size rounded up to the next multiple of 16.
 */
export function encryptEnvelope(key: Uint8Array, iv: Uint8Array, chunks: Uint8Array[]): Uint8Array[] {
  const cipher = crypto.createCipheriv('aes-128-cbc', key, iv);
  let writeChunk = 0;
  let writeAt = 0;
  const put = (bytes: Uint8Array) => {
    let from = 0;
    while (from < bytes.byteLength) {
      const target = chunks[writeChunk];
      const n = Math.min(target.byteLength - writeAt, bytes.byteLength - from);
      target.set(bytes.subarray(from, from + n), writeAt);
      from += n;
      writeAt += n;
      if (writeAt === target.byteLength) {
        writeChunk++;
        writeAt = 0;
      }
    }
  };
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i];
    for (let at = 0; at < chunk.byteLength; at += UPDATE_SLICE) put(cipher.update(chunk.subarray(at, Math.min(at + UPDATE_SLICE, chunk.byteLength))));
  }
  const out: Uint8Array[] = chunks.slice(0, writeChunk);
  if (writeAt > 0) out.push(chunks[writeChunk].subarray(0, writeAt));
  out.push(cipher.final());
  return out;
}

/** The size of a body of `size` clear bytes once envelope-encrypted. */
export function envelopeSize(size: number): number {
  return size - (size % BLOCK) + BLOCK;
}

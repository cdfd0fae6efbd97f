#!/usr/bin/env node
// S3-compatible server for tests: `node test/support/s3-server.mjs PORT DIR`. Started once by
// scripts/run-tests.mjs; serves path-style requests on 127.0.0.1:PORT with a `reel-test` bucket and logs only
// errors. s3rver accepts the access key `S3RVER` (secret `S3RVER`) and rejects other key ids; it does not
// verify SigV4 signatures, so a wrong *secret* alone goes unnoticed (test/support/services.ts says so too).
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import S3rver from 's3rver';

const require = createRequire(import.meta.url);
const FilesystemStore = require('s3rver/lib/stores/filesystem.js');

// s3rver 3.7 encrypts list continuation tokens with DES, which OpenSSL 3 (Node >= 17) no longer ships, so
// every truncated listing failed with 500. Tokens are opaque to clients: use AES for that one cipher.
const { createCipheriv, createDecipheriv } = crypto;
const widen = (bytes) => Buffer.concat([bytes, bytes]); // DES's 8-byte key and IV, doubled for AES-128
crypto.createCipheriv = (algorithm, key, iv, options) =>
  algorithm === 'des' ? createCipheriv('aes-128-cbc', widen(key), widen(iv), options) : createCipheriv(algorithm, key, iv, options);
crypto.createDecipheriv = (algorithm, key, iv, options) =>
  algorithm === 'des' ? createDecipheriv('aes-128-cbc', widen(key), widen(iv), options) : createDecipheriv(algorithm, key, iv, options);

// DeleteObjects deletes its keys in parallel, and each deletion prunes empty directories with a readdir that
// races the others (sporadic 500 ENOENT). One deletion at a time.
const deleteObject = FilesystemStore.prototype.deleteObject;
let deletions = Promise.resolve();
FilesystemStore.prototype.deleteObject = function serialDeleteObject(...args) {
  const run = deletions.then(() => deleteObject.apply(this, args));
  deletions = run.catch(() => undefined);
  return run;
};

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error('usage: node test/support/s3-server.mjs PORT DIR');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  // Clients use path-style URLs; virtual-host detection must not read `127.0.0.1` as a bucket.
  vhostBuckets: false,
  configureBuckets: [{ name: 'reel-test' }],
});
// silent mutes s3rver's logger entirely; errors it answers with 500 are still worth seeing.
server.on('error', (err, ctx) => {
  if (!ctx || ctx.status >= 500) console.error('s3-server:', ctx ? `${ctx.method} ${ctx.url}:` : '', err);
});

try {
  await server.run();
} catch (err) {
  console.error('s3-server failed to start:', err);
  process.exit(1);
}

// run-tests.mjs stops us with SIGTERM. Exit at once: the data lives in its temp dir, and a graceful close
// would wait for idle keep-alive sockets.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
// A runner that crashes (say, Azurite failed to start) never sends it; do not outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1_000).unref();

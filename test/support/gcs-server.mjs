#!/usr/bin/env node
// Google Cloud Storage test server: `node test/support/gcs-server.mjs PORT DIR`. Started once by
// scripts/run-tests.mjs on 127.0.0.1:PORT. Three parts, all on that port:
//
// - GCS's JSON API (`/storage/v1/…`, `/upload/storage/v1/…`, `/download/storage/v1/…`): the Cloud Storage
//   emulator shipped in the `firebase-tools` npm package (lib/emulator/storage), run in this process. Its
//   `firebase emulators:start` entry would first download a Java rules runtime (a jar from outside the npm
//   registry, which this project cannot fetch); the JSON API never evaluates Firebase rules (it uses the
//   emulator's admin storage layer), so we build the emulator's Express app directly and never start that runtime.
// - An OAuth 2.0 token endpoint (`POST /token`, RFC 7523 JWT bearer grant) that Google's service accounts use:
//   it verifies the RS256 assertion with the public key of the test service account (made per run) and hands out
//   access tokens. A wrong key is refused with `invalid_grant`, as Google's endpoint does.
// - A gate in front of the JSON API: the emulator accepts any caller, Google does not; requests without a bearer
//   token issued here get 401, and only the `reel-test` bucket exists (the emulator would make any bucket
//   on first use, Google answers 404).
//
// The service account key (the `gac` JSON a tenant gives MK.IO) is written to DIR/service-account.json.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const [port, directory] = process.argv.slice(2);
if (!port || !directory) {
  console.error('usage: node test/support/gcs-server.mjs PORT DIR');
  process.exit(2);
}
fs.mkdirSync(directory, { recursive: true });
// The emulator keeps uploads under os.tmpdir(): keep them in the run's directory.
process.env.TMPDIR = directory;

const bucket = 'reel-test';
const origin = `http://127.0.0.1:${port}`;
const require = createRequire(import.meta.url);
// REEL_TEST_FIREBASE_TOOLS: another install of firebase-tools (its package directory), for trying versions.
const tools = process.env.REEL_TEST_FIREBASE_TOOLS ?? path.dirname(require.resolve('firebase-tools/package.json'));
const { StorageEmulator } = require(path.join(tools, 'lib/emulator/storage/index.js'));
const { createApp } = require(path.join(tools, 'lib/emulator/storage/server.js'));
const { EmulatorRegistry } = require(path.join(tools, 'lib/emulator/registry.js'));

const emulator = new StorageEmulator({ projectId: 'demo-reel', host: '127.0.0.1', port: Number(port), rules: [], auto_download: false });
const app = await createApp('demo-reel', emulator);
// The emulator builds its self links and resumable upload URLs from the registry.
EmulatorRegistry.set('storage', emulator);

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const clientEmail = 'reel-test@demo-reel.iam.gserviceaccount.com';
const serviceAccount = {
  type: 'service_account',
  project_id: 'demo-reel',
  private_key_id: crypto.randomBytes(20).toString('hex'),
  private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
  client_email: clientEmail,
  client_id: '100000000000000000001',
  auth_uri: `${origin}/auth`,
  token_uri: `${origin}/token`,
  auth_provider_x509_cert_url: `${origin}/certs`,
  client_x509_cert_url: `${origin}/certs/reel-test`,
};
fs.writeFileSync(path.join(directory, 'service-account.json'), JSON.stringify(serviceAccount, null, 2), { mode: 0o600 });

const issued = new Set();
const json = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
};
const gcsError = (res, status, reason, message) => json(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** RFC 7523 §3 checks Google applies: signature, issuer, audience, lifetime at most an hour, a scope. */
function grant(assertion) {
  const [head, claims, signature] = String(assertion ?? '').split('.');
  if (!head || !claims || !signature) return 'Invalid JWT';
  const ok = crypto.verify('sha256', Buffer.from(`${head}.${claims}`), publicKey, Buffer.from(signature, 'base64url'));
  if (!ok) return 'Invalid JWT Signature.';
  const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
  const body = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  const now = Math.floor(Date.now() / 1000);
  if (header.alg !== 'RS256') return 'Invalid JWT: unsupported algorithm';
  if (body.iss !== clientEmail) return 'Invalid JWT: issuer';
  if (body.aud !== serviceAccount.token_uri) return 'Invalid JWT: audience';
  if (typeof body.iat !== 'number' || typeof body.exp !== 'number' || body.exp <= now || body.exp - body.iat > 3600 || body.iat > now + 300) {
    return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.';
  }
  if (typeof body.scope !== 'string' || !body.scope.split(' ').some((s) => s.startsWith('https://www.googleapis.com/auth/devstorage.'))) {
    return 'Invalid JWT: no storage scope';
  }
  return undefined;
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/token') {
      if (req.method !== 'POST') return json(res, 405, { error: 'invalid_request' });
      const form = new URLSearchParams(await readBody(req));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return json(res, 400, { error: 'unsupported_grant_type' });
      const refusal = grant(form.get('assertion'));
      if (refusal) return json(res, 400, { error: 'invalid_grant', error_description: refusal });
      const token = `ya29.test-${crypto.randomBytes(24).toString('base64url')}`;
      issued.add(token);
      return json(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
    }
    const authorization = req.headers.authorization ?? '';
    if (!authorization.startsWith('Bearer ') || !issued.has(authorization.slice(7))) {
      return gcsError(res, 401, 'required', 'Anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket.');
    }
    const named = /^\/(?:upload\/|download\/)?storage\/v1\/b\/([^/]+)/.exec(url.pathname);
    if (named && decodeURIComponent(named[1]) !== bucket) return gcsError(res, 404, 'notFound', 'The specified bucket does not exist.');
    app(req, res);
  } catch (err) {
    console.error('gcs-server:', err);
    if (!res.headersSent) gcsError(res, 500, 'backendError', 'test server failed');
  }
});
server.listen(Number(port), '127.0.0.1');

// run-tests.mjs stops us with SIGTERM; the data lives in its temp dir.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
// A runner that crashes never sends it; do not outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1_000).unref();

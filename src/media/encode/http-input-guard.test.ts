import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EncodeError } from './encode-engine.js';
import { checkHttpInput } from './http-input-guard.js';

const strict = { allowPrivate: false, trustedOrigins: ['http://127.0.0.1:8080'] };

describe('checkHttpInput', () => {
  it('refuses this machine, private networks and cloud metadata addresses', async () => {
    for (const url of ['http://127.0.0.1:9000/a.mp4', 'http://localhost/a.mp4', 'http://[::1]/a.mp4', 'http://10.1.2.3/a.mp4',
      'http://172.20.0.5/a.mp4', 'http://192.168.1.10/a.mp4', 'http://169.254.169.254/latest/meta-data', 'http://0.0.0.0/a.mp4',
      'http://[::ffff:10.0.0.1]/a.mp4', 'http://[fd00::1]/a.mp4']) {
      await assert.rejects(checkHttpInput(url, strict), (e: unknown) => e instanceof EncodeError && e.code === 'DownloadNotAccessible' && /private/.test(e.message), url);
    }
  });

  it('allows public addresses, Reel\'s own origins, and everything when the operator allows private inputs', async () => {
    await checkHttpInput('https://93.184.215.14/movie.mp4', strict);
    await checkHttpInput('http://[2606:4700::1111]/movie.mp4', strict);
    await checkHttpInput('http://127.0.0.1:8080/files/a/b/c.mp4?token=x', strict);
    await checkHttpInput('http://10.0.0.7/movie.mp4', { allowPrivate: true, trustedOrigins: [] });
  });
});

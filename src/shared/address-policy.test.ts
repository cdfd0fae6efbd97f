import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressRefusedError, assertUnambiguousUrl, checkOutboundUrl, isPrivateAddress } from './address-policy.js';

const strict = { allowPrivate: false };

describe('address policy', () => {
  it('treats loopback, private, link-local, reserved and IPv6 forms embedding them as private', () => {
    for (const a of [
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '[::1]',
      'fd00::1',
      'fe80::1%eth0',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
      '2002:7f00:1::',
      'ff02::1',
      'not-an-address',
    ]) {
      assert.equal(isPrivateAddress(a), true, a);
    }
    for (const a of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
  });

  it('refuses URLs that two parsers could read differently', () => {
    for (const raw of [
      'http://127.0.0.1:1\\files\\x\\@127.0.0.1:2/a.mp4',
      'http://user:pw@example.com/a.mp4',
      'http://example.com@10.0.0.1/',
      'http://exa mple.com/',
      'http://example.com/a\tb',
      'http://2130706433/a.mp4',
      'http://0x7f.1/a.mp4',
      'file:///etc/passwd',
      'ftp://example.com/a',
      'http://example.com/%5c..',
      'http://example.com/\u0000',
      'gopher://x',
    ]) {
      assert.throws(() => assertUnambiguousUrl(raw), AddressRefusedError, raw);
    }
    assert.equal(assertUnambiguousUrl('https://media.example.com:443/a/b.mp4?sv=1&sig=x').hostname, 'media.example.com');
    assert.equal(assertUnambiguousUrl('http://[2606:4700::1111]:8080/a.mp4').port, '8080');
  });

  it('checks every resolved address, unless the operator allows private ones or names the host', async () => {
    await assert.rejects(checkOutboundUrl('http://localhost:9/a', strict), (e: unknown) => e instanceof AddressRefusedError && e.reason === 'private');
    await assert.rejects(checkOutboundUrl('http://10.1.2.3/a', strict), AddressRefusedError);
    const allowed = await checkOutboundUrl('http://127.0.0.1:10000/devstoreaccount1', { allowPrivate: false, allowedHosts: ['127.0.0.1:10000'] });
    assert.deepEqual(allowed.addresses, [{ address: '127.0.0.1', family: 4 }]);
    await assert.rejects(checkOutboundUrl('http://127.0.0.1:10001/x', { allowPrivate: false, allowedHosts: ['127.0.0.1:10000'] }), AddressRefusedError);
    assert.equal((await checkOutboundUrl('http://10.0.0.7/movie.mp4', { allowPrivate: true })).addresses[0].address, '10.0.0.7');
    assert.equal((await checkOutboundUrl('https://93.184.215.14/movie.mp4', strict)).addresses[0].address, '93.184.215.14');
  });
});

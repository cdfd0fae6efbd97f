import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { localAreasOf } from '../storage/local-areas.js';

describe('storage settings', () => {
  const base = { REEL_DATA_DIR: '/srv/reel', REEL_LOCAL_STORAGE_ROOTS: '/srv/media:/mnt/disk' };

  it('gives each project its own directory under every root, plus its grants', () => {
    const config = loadConfig({ ...base, REEL_LOCAL_STORAGE_GRANTS: 'news=/archive/news; news=/archive/old ;sport=/archive/sport' });
    const settings = { roots: config.localStorageRoots, grants: config.localStorageGrants };
    assert.deepEqual(localAreasOf('news', settings), ['/srv/media/news', '/mnt/disk/news', '/archive/news', '/archive/old']);
    assert.deepEqual(localAreasOf('sport', settings), ['/srv/media/sport', '/mnt/disk/sport', '/archive/sport']);
    // A name that is not one safe path segment gets no directory under the roots.
    for (const name of ['..', '.', 'a/b', '', 'x\\y']) assert.deepEqual(localAreasOf(name, settings), []);
  });

  it('lets a grant inside a root take that directory from the project whose area it would be', () => {
    const config = loadConfig({ ...base, REEL_LOCAL_STORAGE_GRANTS: 'default=/srv/media/vod;news=/mnt/disk/sport/old' });
    const settings = { roots: config.localStorageRoots, grants: config.localStorageGrants };
    assert.deepEqual(localAreasOf('default', settings), ['/srv/media/default', '/mnt/disk/default', '/srv/media/vod']);
    assert.deepEqual(localAreasOf('vod', settings), ['/mnt/disk/vod']);
    assert.deepEqual(localAreasOf('sport', settings), ['/srv/media/sport']);
  });

  it("refuses grants that are or contain a root or overlap another project's grant, and roots inside roots", () => {
    const bad = [
      { REEL_LOCAL_STORAGE_GRANTS: 'news=/srv/media' },
      { REEL_LOCAL_STORAGE_GRANTS: 'news=/srv' },
      { REEL_LOCAL_STORAGE_GRANTS: 'news=/archive;sport=/archive/sport' },
      { REEL_LOCAL_STORAGE_GRANTS: 'news=relative/dir' },
      { REEL_LOCAL_STORAGE_GRANTS: '=/archive' },
      { REEL_LOCAL_STORAGE_ROOTS: '/srv/media:/srv/media/inner' },
    ];
    for (const env of bad) assert.throws(() => loadConfig({ ...base, ...env }), ConfigError, JSON.stringify(env));
  });

  it('reads the storage address policy', () => {
    const config = loadConfig({ ...base, REEL_STORAGE_ALLOWED_HOSTS: 'MinIO.local:9000, 127.0.0.1:10000', REEL_STORAGE_ALLOW_PRIVATE: 'false' });
    assert.deepEqual(config.storageAllowedHosts, ['minio.local:9000', '127.0.0.1:10000']);
    assert.equal(config.storageAllowPrivate, false);
    assert.equal(loadConfig(base).storageAllowPrivate, false, 'private addresses are refused by default');
  });

  it("reads key delivery's address policy (OpenID discovery documents), closed by default", () => {
    assert.equal(loadConfig(base).keyDeliveryAllowPrivate, false);
    assert.equal(loadConfig({ ...base, REEL_KEY_DELIVERY_ALLOW_PRIVATE: 'true' }).keyDeliveryAllowPrivate, true);
  });
});

describe('live ingest settings', () => {
  it('listens for RTMP on 1935 on loopback, SRT on 6000, and RTMPS only with a certificate and key', () => {
    const config = loadConfig({ REEL_DATA_DIR: '/srv/reel' });
    assert.equal(config.liveRtmpPort, 1935);
    assert.equal(config.liveRtmpHost, config.host, 'the same default interface as the HTTP listener');
    assert.equal(config.liveSrtPort, 6000);
    assert.equal(loadConfig({ REEL_DATA_DIR: '/srv/reel', REEL_LIVE_SRT_PORT: '0' }).liveSrtPort, 0, 'any free port');
    assert.equal(loadConfig({ REEL_DATA_DIR: '/srv/reel', REEL_LIVE_SRT_PORT_BASE: '7000' }).liveSrtPort, 7000, 'the older name still read');
    assert.equal(config.liveRtmpsCertFile, undefined);
    const tls = loadConfig({
      REEL_DATA_DIR: '/srv/reel',
      REEL_LIVE_RTMPS_CERT_FILE: '/etc/reel/cert.pem',
      REEL_LIVE_RTMPS_KEY_FILE: '/etc/reel/key.pem',
      REEL_LIVE_RTMP_PORT: '0',
    });
    assert.deepEqual([tls.liveRtmpPort, tls.liveRtmpsCertFile, tls.liveRtmpsKeyFile], [0, '/etc/reel/cert.pem', '/etc/reel/key.pem']);
    assert.throws(() => loadConfig({ REEL_DATA_DIR: '/srv/reel', REEL_LIVE_RTMPS_CERT_FILE: '/etc/reel/cert.pem' }), /RTMPS needs both/);
    assert.throws(() => loadConfig({ REEL_DATA_DIR: '/srv/reel', REEL_LIVE_RTMP_PORT: '70000' }), /REEL_LIVE_RTMP_PORT/);
  });
});

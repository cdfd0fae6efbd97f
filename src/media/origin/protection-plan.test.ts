import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { predefinedPolicies } from '../../shared/streaming-policies.js';
import type { ContentKey } from '../../shared/content-protection.js';
import type { TrackIndex } from '../packager/index.js';
import { chooseProtection, fillUrlTemplate, keyForTrack } from './protection-plan.js';

const track = (kind: TrackIndex['kind'], fourcc: string) => ({ kind, fourcc }) as TrackIndex;
const key = (type: ContentKey['type'], label: string, id: string): ContentKey => ({ id, type, label, value: Buffer.alloc(16, 1), policyName: 'p' });
const errorCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return `${(err as { status: number }).status} ${(err as { code: string }).code}`;
  }
  return 'no error';
};

describe('chooseProtection', () => {
  it('serves clear when noEncryption enables the protocol and no selector is given', () => {
    assert.equal(chooseProtection('Predefined_ClearStreamingOnly', predefinedPolicies.Predefined_ClearStreamingOnly, 'hls', 'm3u8-cmaf', undefined), undefined);
  });

  it('picks the only encrypted block, with the sample scheme the protocol and format carry', () => {
    const clearKey = predefinedPolicies.Predefined_ClearKey;
    assert.equal(chooseProtection('Predefined_ClearKey', clearKey, 'hls', 'm3u8-aapl', undefined)?.sample, 'aes-128');
    assert.equal(chooseProtection('Predefined_ClearKey', clearKey, 'hls', 'm3u8-cmaf', 'cbc')?.sample, 'aes-128');
    assert.equal(chooseProtection('Predefined_ClearKey', clearKey, 'dash', 'mpd-time-cmaf', undefined)?.sample, 'cenc');
    const multi = predefinedPolicies.Predefined_MultiDrmStreaming;
    assert.deepEqual(
      [chooseProtection('m', multi, 'dash', 'mpd-time-cmaf', undefined)?.keyType, chooseProtection('m', multi, 'hls', 'm3u8-cmaf', 'cbcs-aapl')?.sample],
      ['CommonEncryptionCenc', 'cbcs'],
    );
  });

  it('refuses what the policy or the format cannot do, with clear errors', () => {
    const both = {
      commonEncryptionCenc: { enabledProtocols: { dash: true, hls: true } },
      commonEncryptionCbcs: { enabledProtocols: { dash: true, hls: true } },
    };
    assert.equal(
      errorCode(() => chooseProtection('both', both, 'dash', 'mpd-time-cmaf', undefined)),
      '400 EncryptionNotSpecifiedInUrl',
    );
    assert.equal(
      errorCode(() => chooseProtection('both', both, 'hls', 'm3u8-cmaf', 'cbc')),
      '403 ProtocolNotEnabled',
    );
    assert.equal(
      errorCode(() => chooseProtection('both', both, 'hls', 'm3u8-aapl', 'cenc')),
      '400 EncryptionNotSupportedForFormat',
    );
    assert.equal(
      errorCode(() => chooseProtection('both', both, 'smoothStreaming', 'smooth', undefined)),
      '403 ProtocolNotEnabled',
    );
    assert.equal(chooseProtection('both', both, 'dash', 'mpd-time-cmaf', 'cbcs')?.sample, 'cbcs');
  });
});

describe('keyForTrack', () => {
  const keys = [key('CommonEncryptionCenc', 'video-key', 'a'), key('CommonEncryptionCenc', 'default', 'b'), key('CommonEncryptionCbcs', 'default', 'c')];
  const policy = {
    commonEncryptionCenc: {
      enabledProtocols: { dash: true },
      clearTracks: [{ trackSelections: [{ property: 'FourCC', operation: 'Equal', value: 'AC-3' }] }],
      contentKeys: {
        defaultKey: { label: 'default' },
        keyToTrackMappings: [{ label: 'video-key', tracks: [{ trackSelections: [{ property: 'FourCC', operation: 'Equal', value: 'avc1' }] }] }],
      },
    },
  };
  const choice = chooseProtection('p', policy, 'dash', 'mpd-time-cmaf', undefined)!;

  it('maps tracks to keys by FourCC, keeps clear tracks and text clear', () => {
    assert.equal(keyForTrack(choice, keys, track('video', 'avc1'))?.id, 'a');
    assert.equal(keyForTrack(choice, keys, track('audio', 'mp4a'))?.id, 'b');
    assert.equal(keyForTrack(choice, keys, track('audio', 'ac-3')), undefined);
    assert.equal(keyForTrack(choice, keys, track('text', 'wvtt')), undefined);
  });

  it('refuses a track whose key the locator lacks', () => {
    assert.equal(
      errorCode(() => keyForTrack(choice, [keys[0]], track('audio', 'mp4a'))),
      '403 ContentKeyMissing',
    );
  });
});

describe('fillUrlTemplate', () => {
  it('fills the key id and the locator alternative media id', () => {
    assert.equal(fillUrlTemplate('https://lic.example/{AlternativeMediaId}/wv?kid={ContentKeyId}', 'k1', 'movie 7'), 'https://lic.example/movie%207/wv?kid=k1');
  });
});

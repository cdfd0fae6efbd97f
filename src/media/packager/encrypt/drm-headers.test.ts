import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  commonPssh,
  guidBytes,
  playReadyGuidBytes,
  playReadyHeaderXml,
  playReadyObject,
  playReadyPssh,
  psshBox,
  systemIds,
  widevinePssh,
  widevinePsshData,
} from './drm-headers.js';
import { initSegmentPsshBoxes, initSegmentPsshBoxList, protectionHeaders } from './protection-headers.js';
import { withPssh } from './protected-init.js';
import type { ManifestProtection } from '../mux/manifest/manifest-context.js';
import {
  COMMON_SYSTEM_ID,
  PLAYREADY_SYSTEM_ID,
  WIDEVINE_SYSTEM_ID,
  decodeProtobuf,
  decodeWidevinePsshData,
  parseWrmHeader,
  playReadyKidToGuid,
  readPlayReadyObject,
  readPssh,
  readPsshBoxes,
} from '../../../../test/support/drm-signalling.js';

const KID = '0123abcd-4567-89ef-0123-456789abcdef';
const KID2 = 'fedcba98-7654-3210-fedc-ba9876543210';
const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('pssh boxes (ISO/IEC 23001-7 §8.1)', () => {
  it('writes the W3C common PSSH byte for byte: v1, one KID, no data', () => {
    // size 0x34 = 8 header + 4 version/flags + 16 SystemID + 4 KID_count + 16 KID + 4 DataSize.
    const expected = hex(`00000034 70737368 01000000 1077efecc0b24d02ace33c1e52e2fb4b 00000001 0123abcd456789ef0123456789abcdef 00000000`);
    assert.deepEqual(commonPssh([KID]), expected);
    const parsed = readPssh(commonPssh([KID, KID2]));
    assert.deepEqual([parsed.version, parsed.flags, parsed.systemId, parsed.keyIds, parsed.data.length], [1, 0, COMMON_SYSTEM_ID, [KID, KID2], 0]);
  });

  it('writes v0 boxes with data and no KID list, and refuses KIDs in v0', () => {
    const data = Buffer.from('hello');
    const expected = Buffer.concat([hex('00000025 70737368 00000000'), guidBytes(WIDEVINE_SYSTEM_ID), hex('00000005'), data]);
    assert.deepEqual(psshBox(systemIds.widevine, 0, [], data), expected);
    assert.throws(() => psshBox(systemIds.widevine, 0, [KID], data), /no key ids/);
    assert.throws(() => commonPssh(['not-a-guid']), /GUID/);
  });
});

describe('Widevine PSSH data', () => {
  it('encodes key_ids (2) and protection_scheme (9) as a protobuf a decoder reads back', () => {
    const data = widevinePsshData([KID, KID2], 'cbcs');
    // Field 2, wire type 2 → tag 0x12, length 16; field 9, wire type 0 → tag 0x48, then the FourCC as a varint.
    assert.deepEqual(data.subarray(0, 2), hex('1210'));
    assert.deepEqual(data.subarray(2, 18), guidBytes(KID));
    const fields = decodeProtobuf(data);
    assert.deepEqual(
      fields.map((f) => [f.field, f.wireType]),
      [
        [2, 2],
        [2, 2],
        [9, 0],
      ],
    );
    assert.equal(fields[2].value, 0x63626373n); // 'cbcs'
    // The varint of 0x63626373 computed digit by digit: 7 bits at a time, low group first.
    const groups: number[] = [];
    for (let v = 0x63626373; v > 0; v = Math.floor(v / 128)) groups.push(v % 128);
    assert.deepEqual([...data.subarray(36)], [0x48, ...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g))]);
    const decoded = decodeWidevinePsshData(data);
    assert.deepEqual([decoded.keyIds, decoded.protectionScheme, decoded.contentId], [[KID, KID2], 'cbcs', undefined]);
  });

  it('wraps it in a v0 pssh box, with content_id (4) when given', () => {
    const box = readPssh(widevinePssh([KID], 'cenc', Buffer.from('movie-42')));
    assert.deepEqual([box.version, box.systemId, box.keyIds], [0, WIDEVINE_SYSTEM_ID, []]);
    const decoded = decodeWidevinePsshData(box.data);
    assert.deepEqual([decoded.fields, decoded.keyIds, decoded.contentId, decoded.protectionScheme], [[2, 4, 9], [KID], 'movie-42', 'cenc']);
  });
});

describe('PlayReady header', () => {
  it('swaps the first three GUID fields into little-endian order', () => {
    // Data1 10000000 → 00000010, Data2 1000 → 0010, Data3 1000 → 0010, Data4 as written.
    assert.equal(playReadyGuidBytes('10000000-1000-1000-1000-100000000001').toString('base64'), 'AAAAEAAQABAQABAAAAAAAQ==');
    assert.deepEqual(playReadyGuidBytes('01020304-0506-0708-090a-0b0c0d0e0f10'), hex('04030201 0605 0807 090a0b0c0d0e0f10'));
    assert.equal(playReadyKidToGuid(playReadyGuidBytes(KID).toString('base64')), KID);
  });

  it('writes a 4.0.0.0 header for one CENC key, with LA_URL and escaped custom attributes', () => {
    const xml = playReadyHeaderXml({
      keyIds: [KID],
      scheme: 'cenc',
      licenseUrl: 'https://pr.example/rightsmanager.asmx?a=1&b=2',
      customAttributes: 'x < y & "z"',
    });
    const header = parseWrmHeader(xml);
    assert.deepEqual(
      [header.version, header.keys, header.laUrl],
      ['4.0.0.0', [{ keyId: KID, algId: 'AESCTR' }], 'https://pr.example/rightsmanager.asmx?a=1&b=2'],
    );
    assert.equal(header.customAttributesXml, 'x &lt; y &amp; &quot;z&quot;');
    // Element order of the 4.0.0.0 DATA: PROTECTINFO, KID, LA_URL, CUSTOMATTRIBUTES.
    assert.match(xml, /<DATA><PROTECTINFO><KEYLEN>16<\/KEYLEN><ALGID>AESCTR<\/ALGID><\/PROTECTINFO><KID>[^<]+<\/KID><LA_URL>[^<]+<\/LA_URL><CUSTOMATTRIBUTES>/);
  });

  it('keeps well-formed custom attribute XML as written and escapes anything else', () => {
    const kept = parseWrmHeader(playReadyHeaderXml({ keyIds: [KID], scheme: 'cenc', customAttributes: '<CONTENTID a="1">abc &amp; d</CONTENTID>' }));
    assert.equal(kept.customAttributesXml, '<CONTENTID a="1">abc &amp; d</CONTENTID>');
    for (const bad of ['<A>', '<A/>', '<A></B>', '<!-- c -->', '<![CDATA[x]]>', '&nbsp;', '</A>']) {
      const header = parseWrmHeader(playReadyHeaderXml({ keyIds: [KID], scheme: 'cenc', customAttributes: bad }));
      assert.doesNotMatch(header.customAttributesXml ?? '', /</, `'${bad}' escaped`);
    }
  });

  it('writes 4.3.0.0 with ALGID="AESCBC" for CBCS and 4.2.0.0 KIDS for several CENC keys', () => {
    const cbcs = parseWrmHeader(playReadyHeaderXml({ keyIds: [KID], scheme: 'cbcs' }));
    assert.deepEqual([cbcs.version, cbcs.keys, cbcs.laUrl], ['4.3.0.0', [{ keyId: KID, algId: 'AESCBC' }], undefined]);
    const two = parseWrmHeader(playReadyHeaderXml({ keyIds: [KID, KID2], scheme: 'cenc' }));
    assert.deepEqual(
      [two.version, two.keys],
      [
        '4.2.0.0',
        [
          { keyId: KID, algId: 'AESCTR' },
          { keyId: KID2, algId: 'AESCTR' },
        ],
      ],
    );
  });

  it('packs the header into a little-endian PlayReady Object and a v0 pssh', () => {
    const options = { keyIds: [KID], scheme: 'cenc' as const, licenseUrl: 'https://pr.example/la' };
    const pro = playReadyObject(options);
    const xml = playReadyHeaderXml(options);
    // Length (u32 LE) = 10 + 2 bytes per UTF-16 code unit; record count 1; record type 1; record length.
    const xmlBytes = xml.length * 2;
    assert.deepEqual(pro.subarray(0, 10), Buffer.from([(10 + xmlBytes) & 0xff, (10 + xmlBytes) >> 8, 0, 0, 1, 0, 1, 0, xmlBytes & 0xff, xmlBytes >> 8]));
    assert.equal(pro.subarray(10).toString('utf16le'), xml);
    assert.deepEqual(readPlayReadyObject(pro).keys, [{ keyId: KID, algId: 'AESCTR' }]);
    const box = readPssh(playReadyPssh(options));
    assert.deepEqual([box.version, box.systemId, box.keyIds], [0, PLAYREADY_SYSTEM_ID, []]);
    assert.deepEqual(box.data, pro);
  });
});

describe('protection headers for manifests and init segments', () => {
  const protection: ManifestProtection = {
    scheme: 'cenc',
    keyIdOf: () => KID,
    widevine: {},
    playReady: { licenseUrl: 'https://pr.example/la' },
    clearKey: { licenseUrl: 'https://reel.example/keydelivery/l/clearkey' },
  };

  it('builds the headers once per protection and key set', () => {
    const a = protectionHeaders(protection, [KID]);
    assert.equal(protectionHeaders(protection, [KID]), a);
    assert.notEqual(protectionHeaders(protection, [KID2]), a);
    assert.equal(readPlayReadyObject(a.playReadyObject as Buffer).laUrl, 'https://pr.example/la');
  });

  it('gives the init segment Widevine, PlayReady and common pssh boxes for its key, only the DRMs offered', () => {
    const boxes = readPsshBoxes(initSegmentPsshBoxes(protection, KID));
    assert.deepEqual(
      boxes.map((b) => b.systemId),
      [WIDEVINE_SYSTEM_ID, PLAYREADY_SYSTEM_ID, COMMON_SYSTEM_ID],
    );
    assert.deepEqual(decodeWidevinePsshData(boxes[0].data).keyIds, [KID]);
    assert.deepEqual(readPlayReadyObject(boxes[1].data).keys[0].keyId, KID);
    assert.deepEqual(boxes[2].keyIds, [KID]);
    const clearKeyOnly = readPsshBoxes(initSegmentPsshBoxes({ scheme: 'cbcs', keyIdOf: () => KID2, clearKey: { licenseUrl: 'https://x/ck' } }, KID2));
    assert.deepEqual(
      clearKeyOnly.map((b) => [b.systemId, b.keyIds]),
      [[COMMON_SYSTEM_ID, [KID2]]],
    );
    assert.throws(() => protectionHeaders({ scheme: 'aes-128', keyIdOf: () => KID }, [KID]), /no DRM headers/);
  });

  it('lists the boxes one whole box each, which the init segment writer takes (multi-DRM init segments were refused)', () => {
    const list = initSegmentPsshBoxList(protection, KID);
    assert.equal(list.length, 3);
    for (const box of list) assert.equal(box.readUInt32BE(0), box.byteLength);
    assert.deepEqual(Buffer.concat(list), initSegmentPsshBoxes(protection, KID));
    const moov = Buffer.alloc(8);
    moov.writeUInt32BE(8, 0);
    moov.write('moov', 4, 'latin1');
    const ftyp = Buffer.from('0000000c667479706d703431', 'hex');
    const init = Buffer.from(withPssh(Buffer.concat([ftyp, moov]), list));
    assert.equal(init.readUInt32BE(ftyp.length), 8 + Buffer.concat(list).byteLength, 'moov grows by the boxes');
    assert.deepEqual(
      readPsshBoxes(init.subarray(ftyp.length + 8)).map((b) => b.systemId),
      [WIDEVINE_SYSTEM_ID, PLAYREADY_SYSTEM_ID, COMMON_SYSTEM_ID],
    );
  });
});

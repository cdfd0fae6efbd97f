import { XMLParser } from 'fast-xml-parser';

/** What MK.IO reports for one `.ism` server manifest under `tracks` (§7.4); all values are strings as in SMIL. */
export interface IsmTracks {
  head: Record<string, string>;
  body: { video: Array<Record<string, string>>; audio: Array<Record<string, string>>; textstream: Array<Record<string, string>> };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['meta', 'video', 'audio', 'textstream', 'param', 'switch'].includes(name),
});

type Node = Record<string, unknown>;

/**
 * Reads an AMS server manifest (SMIL 2.0): `<head><meta name content/>`, and `<body><switch>` of
 * `<video|audio|textstream src systemBitrate systemLanguage>` each with `<param name value/>` children.
 * Throws on text that is not such a manifest; the caller reports that under `error`.
 */
export function parseIsm(xml: string): IsmTracks {
  const doc = parser.parse(xml) as Node;
  const smil = doc.smil as Node | undefined;
  if (!smil || typeof smil !== 'object') throw new Error('not a SMIL server manifest (no <smil> root)');
  const head: Record<string, string> = {};
  for (const meta of ((smil.head as Node | undefined)?.meta as Node[] | undefined) ?? []) {
    if (typeof meta.name === 'string') head[meta.name] = String(meta.content ?? '');
  }
  const body: IsmTracks['body'] = { video: [], audio: [], textstream: [] };
  for (const sw of ((smil.body as Node | undefined)?.switch as Node[] | undefined) ?? []) {
    for (const kind of ['video', 'audio', 'textstream'] as const) {
      for (const el of (sw[kind] as Node[] | undefined) ?? []) {
        const item: Record<string, string> = {};
        for (const [k, v] of Object.entries(el)) if (k !== 'param' && typeof v !== 'object') item[k] = String(v);
        for (const param of (el.param as Node[] | undefined) ?? []) {
          if (typeof param.name === 'string') item[param.name] = String(param.value ?? '');
        }
        body[kind].push(item);
      }
    }
  }
  return { head, body };
}

const headFields = ['clientManifestRelativePath', 'compatVersion', 'formats', 'fragmentsPerHLSSegment'] as const;
const itemFields = ['src', 'systemBitrate', 'systemLanguage', 'trackID', 'trackName'] as const;

/**
 * MK.IO's schema requires every head and track field; a manifest that lacks one (AMS writes only some) reports
 * it as an empty string, and a missing availabilityStartTime as the epoch, which AMS used for "not live".
 */
export function toMkioTracks(ism: IsmTracks): Record<string, unknown> {
  const head: Record<string, unknown> = { ...ism.head, extra: {} };
  for (const f of headFields) head[f] ??= '';
  head.availabilityStartTime =
    ism.head.availabilityStartTime && !Number.isNaN(Date.parse(ism.head.availabilityStartTime))
      ? new Date(ism.head.availabilityStartTime).toISOString()
      : '1970-01-01T00:00:00.000Z';
  const fill = (item: Record<string, string>) => {
    const out: Record<string, string> = { ...item };
    for (const f of itemFields) out[f] ??= '';
    return out;
  };
  return { head, body: { video: ism.body.video.map(fill), audio: ism.body.audio.map(fill), textstream: ism.body.textstream.map((t) => ({ ...t })) } };
}

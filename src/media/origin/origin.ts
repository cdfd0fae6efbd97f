import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AssetRow } from '../../store/database.js';
import { ForbiddenError, GoneError, MediaError, NotFoundError, PreconditionFailedError, UnavailableError, UpstreamError } from '../../shared/errors.js';
import { SingleFlight, WeightedLru } from '../../shared/lru.js';
import { policySchemes, type EnabledProtocols } from '../../shared/streaming-policies.js';
import { assertBlobPath } from '../../storage/storage-paths.js';
import { parseRange } from '../../shared/http-range.js';
import { inertFileHeaders } from '../../shared/inert-file-headers.js';
import { parsePlaybackPath } from './playback-path.js';
import type { PlaybackResolver, ResolvedLocator, EndpointView } from './playback-resolver.js';
import { readRange, type AssetLocation, type BuiltPresentation, type PresentationBuilder } from './presentation-builder.js';
import { readPlan, readSourceRanges } from './read-plan.js';
import { SegmentBody } from './segment-body.js';
import { SegmentCache } from './segment-cache.js';
import { BufferPool } from '../../shared/buffer-pool.js';
import { isAllowedAddress } from './ip-allow.js';
import { crossSiteOrigins } from './cross-site.js';
import { textTrackBitrateBps, type PresentationTrack, type SidecarTextTrack } from '../packager/model/presentation.js';
import type { TrackSegment } from '../packager/model/segment.js';
import { buildInitSegment } from '../packager/mux/fmp4/init-segment.js';
import { planMediaSegment } from '../packager/mux/fmp4/media-segment.js';
import { muxTsSegment } from '../packager/mux/ts/ts-muxer.js';
import { hlsMasterPlaylist, hlsMediaPlaylist, hlsTextPlaylist } from '../packager/mux/manifest/hls.js';
import { dashMpd } from '../packager/mux/manifest/dash.js';
import { smoothManifest } from '../packager/mux/manifest/smooth.js';
import { createManifestContext, type ManifestFormat } from '../packager/mux/manifest/manifest-context.js';

export interface OriginDeps {
  resolver: PlaybackResolver;
  builder: PresentationBuilder;
  /** Opens the storage behind an asset (the control plane holds the credentials; main.ts wires this). */
  openAsset: (asset: AssetRow) => Promise<AssetLocation>;
  /** The streaming domain, to read `{endpoint}-{project}` from the Host header. */
  streamingDomain: () => string;
  segmentCacheBytes: number;
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const manifestTypes: Record<ManifestFormat, string> = {
  'm3u8-cmaf': 'application/vnd.apple.mpegurl', 'm3u8-aapl': 'application/vnd.apple.mpegurl',
  'mpd-time-cmaf': 'application/dash+xml', 'mpd-time-csf': 'application/dash+xml', smooth: 'text/xml; charset=utf-8',
};
const protocolOf: Record<ManifestFormat, keyof EnabledProtocols> = {
  'm3u8-cmaf': 'hls', 'm3u8-aapl': 'hls', 'mpd-time-cmaf': 'dash', 'mpd-time-csf': 'dash', smooth: 'smoothStreaming',
};
const protocolNames: Record<keyof EnabledProtocols, string> = { hls: 'HLS', dash: 'DASH', smoothStreaming: 'Smooth Streaming', download: 'download' };


/**
 * The origin: AMS/MK.IO playback URLs (§17) answered from MP4 files just in time. A request resolves its
 * locator (time window, suppression), its endpoint (from the Host, must be running and allow the client),
 * the policy's protocols, then the presentation (cached) and finally the bytes: manifests are generated,
 * segments are planned first and filled from ranged reads, and kept in a bounded cache.
 */
export function registerOrigin(app: FastifyInstance, deps: OriginDeps): void {
  const segments = new SegmentCache(deps.segmentCacheBytes);
  const manifests = new WeightedLru<string, { body: Buffer; gzip?: Buffer; etag: string }>(16 * 1024 * 1024, (m) => m.body.length + (m.gzip?.length ?? 0) + 200);
  const flights = new SingleFlight<string, SegmentBody>();
  // Idle buffers kept for the next misses; segments in flight are on top of this.
  const pool = new BufferPool({ maxPooledBytes: 32 * 1024 * 1024 });

  /** A source replaced since its presentation was built: rebuild once from the new files, then give up. */
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await serve(req, reply);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError && err.code === 'BlobChanged')) throw err;
      deps.builder.clear();
      try {
        return await serve(req, reply);
      } catch (again) {
        if (again instanceof PreconditionFailedError) throw new UpstreamError('SourceChanged', 'The asset\'s files are changing; try again', { status: 503, cause: again });
        throw again;
      }
    }
  };

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    // Errors carry CORS too: without it a browser player sees a 404/410 as an opaque network failure.
    void reply.header('access-control-allow-origin', '*');
    const { locatorId } = req.params as { locatorId: string };
    const rest = (req.params as { '*': string })['*'];
    if (!guidPattern.test(locatorId)) throw new NotFoundError('NotFound', `Route ${req.method} ${req.url.split('?')[0]} not found`);
    const resolved = await deps.resolver.locator(locatorId.toLowerCase());
    if (!resolved) throw new NotFoundError('LocatorNotFound', `Streaming locator '${locatorId}' not found`);
    checkWindow(resolved);
    const endpoint = await endpointFor(req, resolved);
    setCors(req, reply, endpoint);
    const request = parsePlaybackPath(rest);
    const schemes = policySchemes(resolved.policyProperties);
    const clear = schemes.find((s) => s.scheme === 'NoEncryption')?.protocols;
    const isHead = req.method === 'HEAD';

    if (request.kind === 'download') {
      requireProtocol(clear, 'download', resolved);
      return serveDownload(req, reply, resolved, request.fileName, isHead);
    }
    const format: ManifestFormat = request.kind === 'manifest' ? request.options.format : request.request.format;
    requireProtocol(clear, protocolOf[format], resolved);
    const loc = await deps.openAsset(resolved.asset);
    const presentation = await deps.builder.get(loc, request.manifestName);
    const manifestAge = Number(endpoint.properties.maxManifestCacheAge ?? 60);
    // A manifest depends only on the presentation and its URL (format and options), so it is rendered once.
    const manifestKey = `${locatorId.toLowerCase()}|${rest}`;
    const segmentAge = Number(endpoint.properties.maxCacheAge ?? 86400);

    switch (request.kind) {
      case 'manifest': {
        const ctx = createManifestContext(format, request.options);
        const render = () => (format === 'smooth' ? smoothManifest(presentation, ctx)
          : format.startsWith('m3u8') ? hlsMasterPlaylist(presentation, ctx) : dashMpd(presentation, ctx));
        return sendManifest(req, reply, manifestKey, render, manifestTypes[format], presentation, manifestAge, isHead);
      }
      case 'media-playlist': {
        const ctx = createManifestContext(format, request.request.options);
        const text = findTextTrack(presentation, request.request.bitrate, request.request.trackName);
        if (text) return sendManifest(req, reply, manifestKey, () => hlsTextPlaylist(presentation, text.name, ctx), manifestTypes[format], presentation, manifestAge, isHead);
        const track = findTrack(presentation, request.request.bitrate, request.request.trackName);
        return sendManifest(req, reply, manifestKey, () => hlsMediaPlaylist(presentation, track, ctx), manifestTypes[format], presentation, manifestAge, isHead);
      }
      case 'fragment': {
        const { start } = request.request;
        const text = findTextTrack(presentation, request.request.bitrate, request.request.trackName);
        if (text) {
          if (start !== 0) throw new NotFoundError('FragmentNotFound', `Subtitles '${text.name}' are one fragment starting at 0`);
          return sendText(req, reply, loc, presentation, text.sourceFile, format, segmentAge, isHead);
        }
        const track = findTrack(presentation, request.request.bitrate, request.request.trackName);
        const etag = `"${presentation.etag.slice(1, -1)}-${track.bitrateBps}-${start}-${format === 'm3u8-aapl' ? 'ts' : format === 'mpd-time-csf' ? 'csf' : 'cmaf'}"`;
        void reply.header('etag', etag).header('last-modified', lastModified(presentation))
          .header('cache-control', `public, max-age=${segmentAge}, immutable`);
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        const key = `${loc.accountId}/${loc.container}/${loc.prefix}|${etag}|${track.name}`;
        const body = segments.get(key) ?? await flights.run(key, async () => {
          const value = await buildFragment(loc, track, start, format, presentation.files.get(track.sourceFile)?.etag);
          segments.offer(key, value);
          return value;
        });
        void reply.header('content-type', body.contentType).header('content-length', String(body.size));
        if (isHead) return reply.send();
        return sendBody(reply, body);
      }
    }
  };

  app.route({ method: ['GET', 'HEAD'], url: '/:locatorId/*', handler, exposeHeadRoute: false });
  app.options('/:locatorId/*', async (req, reply) => {
    void reply.header('access-control-allow-origin', req.headers.origin ?? '*').header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'range, if-none-match, if-modified-since').header('access-control-max-age', '86400');
    return reply.code(204).send();
  });
  for (const file of ['crossdomain.xml', 'clientaccesspolicy.xml'] as const) {
    app.get(`/${file}`, async (req, reply) => {
      const endpoint = await endpointFromHostOnly(req);
      const policies = endpoint?.properties.crossSiteAccessPolicies as { crossDomainPolicy?: string | null; clientAccessPolicy?: string | null } | undefined;
      const xml = file === 'crossdomain.xml' ? policies?.crossDomainPolicy : policies?.clientAccessPolicy;
      if (!xml) throw new NotFoundError('NotFound', `No ${file} is configured for this streaming endpoint`);
      return reply.type('text/xml; charset=utf-8').send(xml);
    });
  }

  function checkWindow(resolved: ResolvedLocator): void {
    const now = Date.now();
    const { start_time: start, end_time: end } = resolved.locator;
    if (resolved.locatorExtra.suppressed === true) throw new NotFoundError('LocatorSuppressed', 'Streaming locator not found (suppressed)');
    if (start && Date.parse(start) > now) throw new NotFoundError('LocatorNotStarted', 'Streaming locator not found (its start time has not come)');
    if (end && Date.parse(end) <= now) throw new GoneError('LocatorExpired', 'The streaming locator has expired');
  }

  /** `{endpoint}-{project}.{domain}` names an endpoint; any other host (an IP, the API host) means `default`. */
  function endpointNameFromHost(host: string | undefined, projectName: string): string | undefined {
    if (!host) return 'default';
    const domain = deps.streamingDomain().toLowerCase();
    const h = host.toLowerCase();
    const domainHost = domain.replace(/:\d+$/, '');
    const hostName = h.replace(/:\d+$/, '');
    if (!hostName.endsWith(`.${domainHost}`)) return 'default';
    const label = hostName.slice(0, -(domainHost.length + 1));
    const suffix = `-${projectName.toLowerCase()}`;
    if (!label.endsWith(suffix)) return undefined;
    return label.slice(0, -suffix.length);
  }

  async function endpointFor(req: FastifyRequest, resolved: ResolvedLocator): Promise<EndpointView> {
    const name = endpointNameFromHost(req.headers.host, resolved.projectName);
    const endpoint = name ? await deps.resolver.endpoint(resolved.projectId, name) : undefined;
    if (!endpoint) throw new NotFoundError('StreamingEndpointNotFound', 'Streaming endpoint not found for this host');
    if (endpoint.state !== 'Running') throw new UnavailableError('StreamingEndpointStopped', `Streaming endpoint '${endpoint.name}' is not running (${endpoint.state})`);
    const allow = (endpoint.properties.accessControl as { ip?: { allow?: Array<{ address: string; subnetPrefixLength?: number }> } } | undefined)?.ip?.allow;
    if (allow && allow.length > 0 && !isAllowedAddress(req.ip, allow)) {
      throw new ForbiddenError('IpNotAllowed', `Streaming endpoint '${endpoint.name}' does not allow this client address`);
    }
    return endpoint;
  }

  async function endpointFromHostOnly(req: FastifyRequest): Promise<EndpointView | undefined> {
    const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const domainHost = deps.streamingDomain().toLowerCase().replace(/:\d+$/, '');
    if (!host.endsWith(`.${domainHost}`)) return undefined;
    const label = host.slice(0, -(domainHost.length + 1));
    for (let i = label.indexOf('-'); i > 0; i = label.indexOf('-', i + 1)) {
      const project = await deps.resolver.projectByName(label.slice(i + 1));
      if (project) return deps.resolver.endpoint(project, label.slice(0, i));
    }
    return undefined;
  }

  function setCors(req: FastifyRequest, reply: FastifyReply, endpoint: EndpointView): void {
    const allowed = crossSiteOrigins(endpoint.properties.crossSiteAccessPolicies);
    const origin = req.headers.origin;
    const value = allowed === '*' ? '*' : origin && allowed.includes(origin) ? origin : undefined;
    if (!value) void reply.removeHeader('access-control-allow-origin');
    if (value) void reply.header('access-control-allow-origin', value).header('access-control-expose-headers', 'content-length, content-range, etag');
    if (value && value !== '*') void reply.header('vary', 'origin');
  }

  async function serveDownload(req: FastifyRequest, reply: FastifyReply, resolved: ResolvedLocator, fileName: string, isHead: boolean) {
    const loc = await deps.openAsset(resolved.asset);
    const blob = assertBlobPath(loc.prefix ? `${loc.prefix}/${fileName}` : fileName, 'file name');
    const info = await loc.store.stat(loc.container, blob);
    if (!info) throw new NotFoundError('NotFound', `File '${fileName}' not found`);
    // Any file of the asset can be downloaded, on any host including the API's: served inert, like /files.
    void reply.headers(inertFileHeaders(fileName, /\.mp4$/i.test(fileName) ? 'video/mp4' : info.contentType))
      .header('accept-ranges', 'bytes').header('etag', info.etag).header('last-modified', info.lastModified.toUTCString())
      .header('cache-control', 'public, max-age=3600');
    if (req.headers['if-none-match'] === info.etag) return reply.code(304).send();
    const range = parseRange(req.headers.range, info.size);
    if (range) void reply.code(206).header('content-range', `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}`);
    void reply.header('content-length', String(range ? range.length : info.size));
    if (isHead) return reply.send();
    return reply.send(await loc.store.read(loc.container, blob, range));
  }

  async function buildFragment(loc: AssetLocation, track: PresentationTrack, start: number | 'init', format: ManifestFormat, etag: string | undefined): Promise<SegmentBody> {
    const blob = loc.prefix ? `${loc.prefix}/${track.sourceFile}` : track.sourceFile;
    const mime = track.kind === 'audio' ? 'audio/mp4' : 'video/mp4';
    if (format === 'm3u8-aapl') {
      if (start === 'init') throw new NotFoundError('NotFound', 'MPEG-TS segments have no init segment');
      const segment = findSegment(track, start);
      const run = track.track.samples.run(segment.firstSample, segment.firstSample + segment.sampleCount);
      const ranges = [];
      for (let j = 0; j < run.count; j++) ranges.push({ offset: run.offsets[j], length: run.sizes[j] });
      const samples = await readSourceRanges(loc, blob, ranges, etag);
      const [ts] = muxTsSegment({ track: track.track, segment, samples, run });
      return new SegmentBody([ts], ts.byteLength, 'video/mp2t');
    }
    if (start === 'init') {
      const init = buildInitSegment(track.track, { brands: format === 'mpd-time-csf' ? 'iso' : 'cmaf' });
      return new SegmentBody([init], init.byteLength, mime);
    }
    const segment = findSegment(track, start);
    const plan = planMediaSegment(track.track, segment, segment.index + 1, { styp: format !== 'mpd-time-csf' });
    return readPlan(loc, blob, plan, mime, pool, etag);
  }

  /**
   * A side-loaded WebVTT file. HLS needs X-TIMESTAMP-MAP to place cues on the media timeline: MPEG-TS
   * segments start at PTS 900000 (10 s, the TS muxer's offset), CMAF at 0.
   */
  async function sendText(req: FastifyRequest, reply: FastifyReply, loc: AssetLocation, presentation: BuiltPresentation, file: string, format: ManifestFormat, maxAge: number, isHead: boolean) {
    const info = presentation.files.get(file);
    if (!info) throw new NotFoundError('NotFound', `Subtitle file '${file}' not found`);
    const etag = `"${presentation.etag.slice(1, -1)}-vtt-${hashText(`${file}:${info.etag}:${format}`)}"`;
    void reply.header('etag', etag).header('last-modified', info.lastModified.toUTCString()).header('cache-control', `public, max-age=${maxAge}`);
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    if (info.size > 16 * 1024 * 1024) throw new MediaError(422, 'SubtitlesTooLarge', `Subtitle file '${file}' is larger than 16 MiB`);
    let text = info.size === 0 ? '' : Buffer.from(await readRange(loc, loc.prefix ? `${loc.prefix}/${file}` : file, 0, info.size, info.etag)).toString('utf8');
    if (format === 'm3u8-cmaf' || format === 'm3u8-aapl') {
      const map = `X-TIMESTAMP-MAP=MPEGTS:${format === 'm3u8-aapl' ? 900000 : 0},LOCAL:00:00:00.000`;
      text = /^\uFEFF?WEBVTT[^\n]*\n/.test(text) ? text.replace(/^(\uFEFF?WEBVTT[^\n]*\n)/, `$1${map}\n`) : `WEBVTT\n${map}\n\n${text}`;
    }
    const body = Buffer.from(text, 'utf8');
    void reply.header('content-type', 'text/vtt; charset=utf-8').header('content-length', String(body.length));
    return reply.send(isHead ? undefined : body);
  }

  /**
   * Writes a body of views with one gathered write (corked), outside Fastify's serializer; headers set on the
   * reply so far go with it. The body's pooled buffers stay retained until the socket is done with them.
   */
  function sendBody(reply: FastifyReply, body: SegmentBody): FastifyReply {
    void reply.hijack();
    const res = reply.raw;
    body.retain();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      body.releaseRef();
    };
    res.once('finish', release);
    res.once('close', release);
    res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string>);
    res.cork();
    for (const chunk of body.chunks) res.write(chunk);
    res.end();
    res.uncork();
    return reply;
  }

  function requireProtocol(clear: EnabledProtocols | undefined, protocol: keyof EnabledProtocols, resolved: ResolvedLocator): void {
    if (clear?.[protocol]) return;
    const encrypted = policySchemes(resolved.policyProperties).some((s) => s.scheme !== 'NoEncryption' && s.protocols[protocol]);
    throw new ForbiddenError('ProtocolNotEnabled', encrypted
      ? `Streaming policy '${resolved.locator.policy_name}' enables ${protocolNames[protocol]} only with encryption, which this server does not serve yet`
      : `Streaming policy '${resolved.locator.policy_name}' does not enable ${protocolNames[protocol]}`);
  }

  /** Renders a manifest once per (presentation version, URL), keeps its bytes, gzip and ETag, and answers from them. */
  function sendManifest(req: FastifyRequest, reply: FastifyReply, key: string, render: () => string, type: string, presentation: BuiltPresentation, maxAge: number, isHead: boolean) {
    const cacheKey = `${presentation.etag}|${key}`;
    let rendered = manifests.get(cacheKey);
    if (!rendered) {
      const text = render();
      rendered = { body: Buffer.from(text, 'utf8'), etag: `"${presentation.etag.slice(1, -1)}-${hashText(text)}"` };
      manifests.set(cacheKey, rendered);
    }
    void reply.header('content-type', type).header('etag', rendered.etag).header('last-modified', lastModified(presentation))
      .header('cache-control', `public, max-age=${maxAge}`).header('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === rendered.etag) return reply.code(304).send();
    let body = rendered.body;
    if (body.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      if (!rendered.gzip) {
        rendered.gzip = gzipSync(body, { level: 6 });
        manifests.set(cacheKey, rendered); // weigh it again with its gzip
      }
      body = rendered.gzip;
      void reply.header('content-encoding', 'gzip');
    }
    void reply.header('content-length', String(body.length));
    return reply.send(isHead ? undefined : body);
  }


}

function findTextTrack(p: BuiltPresentation, bitrate: number, name: string): SidecarTextTrack | undefined {
  return bitrate === textTrackBitrateBps ? p.textTracks?.find((t) => t.name === name) : undefined;
}

function findTrack(p: BuiltPresentation, bitrate: number, name: string): PresentationTrack {
  const track = p.tracks.find((t) => t.bitrateBps === bitrate && t.name === name);
  if (!track) throw new NotFoundError('NotFound', `Track '${name}' at ${bitrate} bps not found`);
  return track;
}

/** Segments are addressed by their exact start time; anything else is not a segment of this track. */
function findSegment(track: PresentationTrack, start: number): TrackSegment {
  const segment = track.segments.startingAt(start);
  if (!segment) throw new NotFoundError('FragmentNotFound', `No fragment of '${track.name}' starts at ${start}`);
  return segment;
}

function lastModified(p: BuiltPresentation): string {
  let latest = 0;
  for (const t of p.tracks) latest = Math.max(latest, p.files.get(t.sourceFile)?.lastModified.getTime() ?? 0);
  return new Date(latest).toUTCString();
}

function hashText(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AssetRow } from '../../store/database.js';
import { BadRequestError, NotFoundError, PreconditionFailedError, UpstreamError } from '../../shared/errors.js';
import {
  checkEncryptable,
  createManifestContext,
  outputFormat,
  textTrackForm,
  timeOptionFilters,
  type ManifestContext,
  type ManifestEncryption,
  type OutputFormat,
} from '../packager/index.js';
import { parsePlaybackPath, type PlaybackRequest } from './playback-path.js';
import type { EndpointView, PlaybackResolver, ResolvedLocator } from './playback-resolver.js';
import type { AssetLocation, BuiltPresentation, PresentationBuilder } from './presentation-builder.js';
import { EndpointGate, answersAnyClient, applyCors } from './endpoint-gate.js';
import { checkLocatorWindow, requireClearProtocol } from './locator-access.js';
import { ManifestResponder, wantsGzip, type ManifestResponse } from './manifest-responder.js';
import { FragmentBuilder, fragmentEtag } from './fragment-builder.js';
import { sendSegmentBody, writeSegmentBody } from './send-segment-body.js';
import { HotRoutes, type HotRoute } from './hot-routes.js';
import { sendSidecarSubtitles } from './sidecar-subtitles.js';
import { serveDownload } from './downloads.js';
import { findTextTrack, findTrack, lastModified, partStart, type FragmentStart } from './presentation-lookup.js';
import { chooseProtection, type ProtectionChoice } from './protection-plan.js';
import { manifestProtectionFor, trackEncryptionFor } from './manifest-protection.js';
import type { StreamMeter } from './stream-meter.js';
import type { FilterLookup } from '../../shared/filter-definitions.js';
import { combineFilterNames, locatorFilterNames, lookUpFilters, withTimeFilters, type RequestFilters } from './request-filters.js';
import { FilteredPresentations } from './filtered-presentation.js';
import type { LivePlayback, LiveSource } from './live-source.js';
import type { LiveRelay } from './live-relay.js';
import { liveManifestMaxAgeSec, liveSegmentVersion, previewProtection, registerUtcTime, utcTimePath } from './live-playback.js';
import { holdLiveRequest } from './live-blocking.js';
import { isOpenSegment, sendOpenSegment } from './live-chunked-segment.js';

export interface OriginDeps {
  resolver: PlaybackResolver;
  builder: PresentationBuilder;
  /** Opens the storage behind an asset (the control plane holds the credentials; main.ts wires this). */
  openAsset: (asset: AssetRow) => Promise<AssetLocation>;
  /** The streaming domain, to read `{endpoint}-{project}` from the Host header. */
  streamingDomain: () => string;
  segmentCacheBytes: number;
  /** Counts the bytes written per endpoint (usage metering); absent in the warm-up's own origin. */
  meter?: StreamMeter;
  /** Asset and account filters by name (manifests apply the locator's and the URL's filters). */
  filters: FilterLookup;
  /**
   * The live runtime: an asset a running live output records into plays its live presentation, and a running
   * event's preview locator (not in the store) plays the event. Absent: everything plays from storage.
   */
  live?: LiveSource;
  /**
   * In a process without the live runtime (an origin process): what is live is relayed to the main process,
   * after this process's own locator and endpoint checks.
   */
  liveRelay?: LiveRelay;
  /** The client's address for endpoint allow-lists (the main process: the one a relay vouched for). */
  clientAddress?: (req: FastifyRequest) => string;
}

type ManifestRequest = Extract<PlaybackRequest, { kind: 'manifest' | 'media-playlist' }>;

/** The endpoint's cache age (seconds, as given) for segments or manifests. */
function cacheAgeOf(endpoint: EndpointView, kind: 'manifest' | 'segment'): string {
  return String((kind === 'segment' ? endpoint.properties.maxCacheAge : endpoint.properties.maxManifestCacheAge) ?? (kind === 'segment' ? 86400 : 60));
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The origin: AMS/MK.IO playback URLs (§17) answered from MP4 files just in time. A request resolves its
 * locator (time window, suppression), its endpoint (`EndpointGate`: from the Host, must be running and allow
 * the client), the policy's protocols, then the presentation (cached) and finally the bytes: manifests
 * (`ManifestResponder`), segments (`FragmentBuilder`), subtitles and downloads. The format table of the
 * packager (`outputFormat`) says which writer and muxer serve a `format=`.
 */
export function registerOrigin(app: FastifyInstance, deps: OriginDeps): void {
  const gate = new EndpointGate(deps.resolver, deps.streamingDomain, deps.clientAddress);
  const manifests = new ManifestResponder();
  const fragments = new FragmentBuilder(deps.segmentCacheBytes);
  const hot = new HotRoutes();
  const filtered = new FilteredPresentations();

  /** A source replaced since its presentation was built: rebuild once from the new files, then give up. */
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await serve(req, reply);
    } catch (err) {
      if (!(err instanceof PreconditionFailedError && err.code === 'BlobChanged')) throw err;
      deps.builder.clear();
      hot.clear();
      try {
        return await serve(req, reply);
      } catch (again) {
        if (again instanceof PreconditionFailedError)
          throw new UpstreamError('SourceChanged', "The asset's files are changing; try again", { status: 503, cause: again });
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
    // A GUID the store does not know may be a running live event's preview locator: the live runtime knows those.
    // A preview has no project here, so no endpoint to check or meter: it plays on any host (MKIO-DIFFERENCES.md).
    const preview = resolved ? undefined : deps.live?.forPreviewLocator(locatorId.toLowerCase());
    if (!resolved && deps.liveRelay?.isLivePreview(locatorId)) return deps.liveRelay.relay(req, reply);
    if (!resolved && !preview) throw new NotFoundError('LocatorNotFound', `Streaming locator '${locatorId}' not found`);
    let endpoint: EndpointView | undefined;
    if (resolved) {
      checkLocatorWindow(resolved);
      endpoint = await gate.admit(req, resolved);
      // The main process meters what it relays back.
      if (deps.liveRelay?.isLiveAsset(resolved.asset.id)) return deps.liveRelay.relay(req, reply);
      deps.meter?.track(reply.raw, resolved.projectId, endpoint);
      applyCors(req, reply, endpoint);
    }
    const request = parsePlaybackPath(rest);
    const isHead = req.method === 'HEAD';

    if (request.kind === 'download') {
      if (!resolved) throw new NotFoundError('NotFound', 'A live event preview offers no downloads');
      requireClearProtocol(resolved, 'download');
      return serveDownload(req, reply, await deps.openAsset(resolved.asset), request.fileName, isHead);
    }
    const options = request.kind === 'manifest' ? request.options : request.request.options;
    const row = outputFormat(options.format);
    // Clear, or which scheme and keys (403/400 when the policy does not enable the protocol that way). A preview
    // is clear, with every streaming protocol.
    const protection = resolved ? protectionOf(resolved, row, options.encryption) : previewProtection(row, options.encryption);
    // Live: the runtime's presentation (sliced to the DVR window, growing) while the asset is recorded into; once
    // the output stops, the runtime no longer answers and the archive plays from storage as VOD.
    let live: LivePlayback | undefined = preview ?? (resolved ? deps.live?.forAsset(resolved.asset.id) : undefined);
    const again = () => (resolved ? deps.live?.forAsset(resolved.asset.id) : deps.live?.forPreviewLocator(locatorId.toLowerCase()));
    // LL-HLS: a blocking playlist reload (`_HLS_msn`) or a preload-hinted part waits until the recording has it.
    if (live) {
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once('close', onClose);
      try {
        live = await holdLiveRequest(live, request, req.query, again, gone.signal);
      } finally {
        reply.raw.off('close', onClose);
      }
    }
    // Manifests apply the locator's then the URL's filters; segments are never filtered (a filtered manifest's
    // segment URLs are the unfiltered ones plus `filter=`, served from the same cache).
    const manifestFilterNames = () => (resolved ? combineFilterNames(locatorFilterNames(resolved), options.filters) : options.filters);
    const filterNames = request.kind === 'fragment' ? [] : manifestFilterNames();
    if (!resolved && filterNames.length > 0)
      throw new BadRequestError('FiltersNotSupported', 'A live event preview has no asset or account filters; use its output locators for filtered playback');
    const namedFilters = (names: string[]) => (names.length > 0 && resolved ? lookUpFilters(deps.filters, resolved, names) : undefined);
    const named = await namedFilters(filterNames);
    // `vbegin`/`vend`, and `start`/`end`: instants from tick 0's wall-clock time when live, else from the epoch
    // (Reel's VOD presentations carry no wall-clock origin).
    const originMs = live?.presentation.live?.availabilityStartMs ?? 0;
    const filters = request.kind === 'fragment' ? named : withTimeFilters(named, timeOptionFilters(options, originMs));
    const loc = live ? live.location : await deps.openAsset(resolved!.asset);
    const presentation = live ? live.presentation : await deps.builder.get(loc, request.manifestName);
    // Key and licence URLs (manifests, PlayReady headers in init segments) are absolute, on the request's host.
    const baseUrl = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    const manifestProtection = protection && resolved ? manifestProtectionFor(protection, resolved, baseUrl) : undefined;
    /** The route as this request saw it, when a repeat may skip the routing (see HotRoutes). */
    const hotRoute = (headers: Record<string, string>, answer: HotRoute['answer']): HotRoute | undefined => {
      // Protected answers always take the routed way: their checks (keys, scheme) are not in a hot route. Live
      // answers too: a hot route's version check is the storage presentation's, and live manifests change.
      if (isHead || protection || live || !resolved || !endpoint || !answersAnyClient(endpoint)) return undefined;
      const endpointName = gate.nameFor(req.headers.host, resolved.projectName);
      if (!endpointName) return undefined;
      const { 'content-length': _length, 'content-encoding': _encoding, ...kept } = headers;
      return {
        locatorId: locatorId.toLowerCase(),
        projectName: resolved.projectName,
        assetId: resolved.asset.id,
        endpointName,
        protocol: row.protocol,
        maxAge: cacheAgeOf(endpoint, answer.kind),
        manifestName: request.manifestName,
        presentation,
        urlFilters: options.filters,
        filterNames,
        filterVersion: filters?.version ?? '',
        headers: kept,
        answer,
      };
    };
    if (request.kind !== 'fragment') {
      const shown = filters ? filtered.get(presentation, filters) : presentation;
      // A protected stream with a track the scheme cannot carry is refused whole (4xx), not signalled and then failed.
      if (protection && manifestProtection)
        for (const t of shown.tracks) if (manifestProtection.keyIdOf(t) !== undefined) checkEncryptable(t.track, protection.sample);
      // The key includes the host when protected or live (key, licence and time URLs in the manifest are
      // absolute), and the filters with their version (the locator's are not in the URL; an edited filter is a
      // new manifest). A live presentation's ETag changes with each segment, and so does the cached text.
      const key = `${locatorId.toLowerCase()}|${rest}${filters ? `|f=${filters.tag}` : ''}${protection || live ? `|${baseUrl}` : ''}`;
      const endpointAge = endpoint ? Number(cacheAgeOf(endpoint, 'manifest')) : liveManifestMaxAgeSec;
      const maxAgeSec = live ? Math.min(endpointAge, liveManifestMaxAgeSec) : endpointAge;
      const utcTimingUrl = live ? `${baseUrl}${utcTimePath}` : undefined;
      const rendered = serveManifest(req, reply, request, row, shown, maxAgeSec, key, isHead, manifestProtection, filters, utcTimingUrl);
      const route = rendered && hotRoute(reply.getHeaders() as Record<string, string>, { kind: 'manifest', rendered });
      if (route) hot.remember(req.raw, route);
      return reply;
    }

    const segmentAge = Number(endpoint ? cacheAgeOf(endpoint, 'segment') : 86400);
    // `type=keyframes`: one keyframe alone (HLS I-frame playlists), encrypted as its segment is.
    const { keyframes, part } = request.request;
    // LL-HLS parts: clear LowLatency live only (protected playlists list whole segments).
    if (part !== undefined && protection)
      throw new BadRequestError('PartsNotProtected', 'LL-HLS parts are served for clear streams only; a protected stream plays by whole segments');
    if (part !== undefined && !live?.presentation.live?.partTargetSec)
      throw new NotFoundError('FragmentNotFound', 'Parts exist only while a LowLatency live event records into the asset');
    const start: FragmentStart =
      typeof request.request.start !== 'number'
        ? request.request.start
        : keyframes
          ? `k${request.request.start}`
          : part !== undefined
            ? partStart(request.request.start, part)
            : request.request.start;
    const text = findTextTrack(presentation, request.request.bitrate, request.request.trackName);
    if (text) {
      if (start !== 0) throw new NotFoundError('FragmentNotFound', `Subtitles '${text.name}' are one fragment starting at 0`);
      // DASH reads a side-loaded file's cues as Period times, and the Period starts where the manifest's filters
      // (the locator's, the URL's, time options) start the clip: the file is shifted by the same view.
      const manifestFilters =
        row.protocol === 'dash' ? withTimeFilters(await namedFilters(manifestFilterNames()), timeOptionFilters(options, originMs)) : undefined;
      const shown = manifestFilters ? filtered.get(presentation, manifestFilters) : presentation;
      return sendSidecarSubtitles(req, reply, loc, shown, text.sourceFile, row, segmentAge, isHead);
    }
    const track = findTrack(presentation, request.request.bitrate, request.request.trackName);
    // Low-latency DASH: the segment a LowLatency recording is writing goes out chunked, part by part, as it grows.
    if (live?.presentation.live?.partTargetSec && typeof start === 'number' && row.segments.container === 'fmp4' && isOpenSegment(track, start)) {
      if (protection)
        throw new BadRequestError(
          'PartsNotProtected',
          'Low-latency chunked segments are served for clear streams only; a protected stream plays by whole segments',
        );
      const { bitrate, trackName } = request.request;
      return sendOpenSegment(reply, { playback: live, again, trackName, bitrate, segmentStartTicks: start, row, fragments, isHead });
    }
    const encryption = protection && manifestProtection && resolved ? trackEncryptionFor(protection, resolved, manifestProtection, track) : undefined;
    if (encryption) checkEncryptable(track.track, encryption.scheme);
    // A live segment's ETag (and so its cache key) stays the same while the presentation grows, and it has no
    // Last-Modified of its own (the presentation's moves with each segment).
    const etag = fragmentEtag(presentation, track, start, row, encryption, live ? liveSegmentVersion(live) : undefined);
    void reply.header('etag', etag).header('cache-control', `public, max-age=${segmentAge}, immutable`);
    if (!live) void reply.header('last-modified', lastModified(presentation));
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    const key = fragments.key(loc, etag, track, encryption);
    // Live source files grow while they are read (appended to, never rewritten), so their reads are not tied to
    // one version of the file.
    const sourceEtag = live ? undefined : presentation.files.get(track.sourceFile)?.etag;
    const body = fragments.cached(key) ?? (await fragments.build(key, loc, track, start, row, sourceEtag, encryption));
    void reply.header('content-type', body.contentType).header('content-length', String(body.size));
    if (isHead) return reply.send();
    const route = hotRoute(reply.getHeaders() as Record<string, string>, { kind: 'segment', key, track, start, row });
    if (route) hot.remember(req.raw, route);
    return sendSegmentBody(reply, body);
  };

  /** A manifest or HLS media playlist; `key` is its URL within the locator (with the presentation, all it depends on). */
  const serveManifest = (
    req: FastifyRequest,
    reply: FastifyReply,
    request: ManifestRequest,
    row: OutputFormat,
    presentation: BuiltPresentation,
    maxAgeSec: number,
    key: string,
    isHead: boolean,
    protection: ManifestContext['protection'],
    filters: RequestFilters | undefined,
    utcTimingUrl: string | undefined,
  ) => {
    const response: ManifestResponse = {
      key,
      contentType: row.manifests.contentType,
      presentation,
      maxAgeSec,
      isHead,
      ...(filters ? { variant: filters.tag } : {}),
    };
    const withProtection = (ctx: ManifestContext): ManifestContext => ({
      ...ctx,
      ...(protection ? { protection } : {}),
      ...(utcTimingUrl ? { utcTimingUrl } : {}),
    });
    if (request.kind === 'manifest') {
      const ctx = withProtection(createManifestContext(row.format, request.options));
      return manifests.send(req, reply, response, () => row.manifests.manifest(presentation, ctx));
    }
    const { mediaPlaylist, textPlaylist } = row.manifests;
    if (!mediaPlaylist || !textPlaylist) throw new NotFoundError('NotFound', `Format '${row.format}' has no media playlists`);
    const ctx = withProtection(createManifestContext(row.format, request.request.options));
    const text = findTextTrack(presentation, request.request.bitrate, request.request.trackName);
    if (text) return manifests.send(req, reply, response, () => textPlaylist(presentation, text.name, ctx));
    const track = findTrack(presentation, request.request.bitrate, request.request.trackName);
    if (track.kind === 'text' && !textTrackForm(row.format, track.track))
      throw new NotFoundError('NotFound', `Text track '${track.name}' (${track.track.fourcc}) is not offered in format '${row.format}'`);
    if (request.request.keyframes) {
      const iFramePlaylist = row.manifests.iFramePlaylist;
      if (!iFramePlaylist || track.kind !== 'video')
        throw new NotFoundError('NotFound', `Track '${track.name}' has no I-frame playlist (video tracks of HLS streams have one)`);
      return manifests.send(req, reply, response, () => iFramePlaylist(presentation, track, ctx) ?? '');
    }
    return manifests.send(req, reply, response, () => mediaPlaylist(presentation, track, ctx));
  };

  /** The protection a request gets, or undefined for clear delivery (see protection-plan.ts). */
  const protectionOf = (resolved: ResolvedLocator, row: OutputFormat, encryption: ManifestEncryption | undefined): ProtectionChoice | undefined =>
    chooseProtection(resolved.locator.policy_name, resolved.policyProperties, row.protocol, row.format, encryption);

  /**
   * A repeat of a URL answered before: the routed path's checks against the same caches (locator window and
   * protocol, endpoint running and open to any client, same cache age, same presentation version), then the
   * bytes. False (or a throw) sends the request the routed way, which answers whatever changed.
   */
  const answerHot = async (route: HotRoute, req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const resolved = await deps.resolver.locator(route.locatorId);
    if (!resolved || resolved.projectName !== route.projectName || resolved.asset.id !== route.assetId) return false;
    // An asset a live output now records into plays live, which only the routed way serves.
    if (deps.live?.forAsset(route.assetId) || deps.liveRelay?.isLiveAsset(route.assetId)) return false;
    checkLocatorWindow(resolved);
    requireClearProtocol(resolved, route.protocol);
    const { answer } = route;
    const endpoint = await deps.resolver.endpoint(resolved.projectId, route.endpointName);
    if (!endpoint || endpoint.state !== 'Running' || !answersAnyClient(endpoint) || cacheAgeOf(endpoint, answer.kind) !== route.maxAge) return false;
    // Same filters (the locator's may differ from when the route was kept) at the same version.
    if (answer.kind === 'manifest' && (route.filterNames.length > 0 || locatorFilterNames(resolved).length > 0)) {
      const names = combineFilterNames(locatorFilterNames(resolved), route.urlFilters);
      if (names.join(';') !== route.filterNames.join(';')) return false;
      const { definitions, version } = await deps.filters.filtersFor(resolved.projectId, resolved.asset.id, names);
      if (version !== route.filterVersion || definitions.some((d) => d === undefined)) return false;
    }
    deps.meter?.track(res, resolved.projectId, endpoint);
    const loc = await deps.openAsset(resolved.asset);
    // Same version (the files' ETags): same tracks, segments, manifests and headers.
    if ((await deps.builder.get(loc, route.manifestName)).etag !== route.presentation.etag) return false;
    if (answer.kind === 'manifest') {
      const gzip = wantsGzip(answer.rendered, req.headers['accept-encoding']);
      const body = gzip ? answer.rendered.gzip : answer.rendered.body;
      if (!body) return false;
      const headers = gzip
        ? (answer.gzip ??= { ...route.headers, 'content-encoding': 'gzip', 'content-length': String(body.length) })
        : (answer.identity ??= { ...route.headers, 'content-length': String(body.length) });
      res.writeHead(200, headers);
      res.end(body);
      return true;
    }
    const sourceEtag = route.presentation.files.get(answer.track.sourceFile)?.etag;
    const body = fragments.cached(answer.key) ?? (await fragments.build(answer.key, loc, answer.track, answer.start, answer.row, sourceEtag));
    writeSegmentBody(res, 200, { ...route.headers, 'content-length': String(body.size) }, body);
    return true;
  };
  // The routed path's per-request debug line (control/app.ts) comes from a Fastify hook: hot answers write their own.
  const debug = (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') === true;
  hot.install(app.server, async (route, req, res) => {
    const started = performance.now();
    const done = await answerHot(route, req, res);
    if (done && debug) app.log.debug({ method: req.method, url: '/:locatorId/*', status: res.statusCode, ms: performance.now() - started }, 'request done');
    return done;
  });
  app.addHook('preClose', async () => hot.close());

  app.route({ method: ['GET', 'HEAD'], url: '/:locatorId/*', handler, exposeHeadRoute: false });
  // The clock live DASH manifests point players at (UTCTiming).
  registerUtcTime(app);
  app.options('/:locatorId/*', async (req, reply) => {
    void reply
      .header('access-control-allow-origin', req.headers.origin ?? '*')
      .header('access-control-allow-methods', 'GET, HEAD, OPTIONS')
      .header('access-control-allow-headers', 'range, if-none-match, if-modified-since')
      .header('access-control-max-age', '86400');
    return reply.code(204).send();
  });
  for (const file of ['crossdomain.xml', 'clientaccesspolicy.xml'] as const) {
    app.get(`/${file}`, async (req, reply) => {
      const endpoint = await gate.ofHost(req.headers.host);
      const policies = endpoint?.properties.crossSiteAccessPolicies as { crossDomainPolicy?: string | null; clientAccessPolicy?: string | null } | undefined;
      const xml = file === 'crossdomain.xml' ? policies?.crossDomainPolicy : policies?.clientAccessPolicy;
      if (!xml) throw new NotFoundError('NotFound', `No ${file} is configured for this streaming endpoint`);
      return reply.type('text/xml; charset=utf-8').send(xml);
    });
  }
}

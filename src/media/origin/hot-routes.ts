import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { WeightedLru } from '../../shared/lru.js';
import type { EnabledProtocols } from '../../shared/streaming-policies.js';
import type { OutputFormat, PresentationTrack } from '../packager/index.js';
import type { RenderedManifest } from './manifest-responder.js';
import type { BuiltPresentation } from './presentation-builder.js';
import type { FragmentStart } from './presentation-lookup.js';

/**
 * What a playback URL was found to be when it was last answered: its parse (locator, manifest, track, format)
 * and what its answer depended on (project, endpoint, protocol, cache age, presentation version). A repeat
 * redoes the checks against the same caches the routed path reads (so a deleted locator or a stopped endpoint
 * stops a hot URL within the same bound as any other) and answers only if they still lead to this answer.
 */
export interface HotRoute {
  locatorId: string;
  projectName: string;
  assetId: string;
  endpointName: string;
  protocol: keyof EnabledProtocols;
  /** The endpoint's cache age property as the answer's cache-control used it. */
  maxAge: string;
  manifestName: string;
  /** The unfiltered presentation (its version is what a repeat compares). */
  presentation: BuiltPresentation;
  /** The URL's `filter=` names. */
  urlFilters: string[];
  /** The filters the answer applied (locator's and URL's; empty for segments, which are never filtered)… */
  filterNames: string[];
  /** …and their version: a repeat of a manifest whose filters were edited since goes the routed way. */
  filterVersion: string;
  /** The response headers the routed path sent (security, CORS, caching, type), without length and encoding. */
  headers: Record<string, string>;
  answer: HotManifest | HotSegment;
}

export interface HotManifest {
  kind: 'manifest';
  rendered: RenderedManifest;
  /** `headers` with the length (and encoding) of each body, made on first use. */
  identity?: Record<string, string>;
  gzip?: Record<string, string>;
}

export interface HotSegment {
  kind: 'segment';
  /** The segment cache's key. */
  key: string;
  track: PresentationTrack;
  start: FragmentStart;
  row: OutputFormat;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Playback URLs answered recently, by (Host, URL), so a repeat skips routing, Fastify's request and reply
 * objects, hooks and path parsing: its checks are redone against the same caches and its bytes are written
 * at once. Only URLs whose answer cannot depend on the client are kept (no IP allow-list, CORS for any
 * origin); anything else (conditional requests, HEAD, a changed locator) goes the routed way.
 */
export class HotRoutes {
  // Manifest routes weigh their bodies (they keep them alive); segment routes are small.
  readonly #routes = new WeightedLru<string, HotRoute>(32 * 1024 * 1024, (r) => 512 + (r.answer.kind === 'manifest' ? 2 * r.answer.rendered.body.length : 0));
  #closing = false;

  static keyOf(req: IncomingMessage): string {
    return `${req.headers.host ?? ''}\n${req.url ?? ''}`;
  }

  remember(req: IncomingMessage, route: HotRoute): void {
    this.#routes.set(HotRoutes.keyOf(req), route);
  }

  forget(req: IncomingMessage): void {
    this.#routes.delete(HotRoutes.keyOf(req));
  }

  clear(): void {
    this.#routes.clear();
  }

  /** Stops answering (the server is closing: Fastify's own handler answers 503 from now on). */
  close(): void {
    this.#closing = true;
    this.clear();
  }

  /**
   * Puts `answer` in front of the server's request handler (Fastify's): a kept URL is answered there unless it
   * resolves false (or throws) before writing anything, in which case the request goes to Fastify.
   */
  install(server: Server, answer: (route: HotRoute, req: IncomingMessage, res: ServerResponse) => Promise<boolean>): void {
    const listeners = server.listeners('request') as Listener[];
    if (listeners.length !== 1) return; // not the server shape this was written for: leave it alone
    const routed = listeners[0];
    server.removeListener('request', routed);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const route = req.method === 'GET' && !this.#closing && req.headers['if-none-match'] === undefined ? this.#routes.get(HotRoutes.keyOf(req)) : undefined;
      if (!route) return routed.call(server, req, res);
      answer(route, req, res).then(
        (done) => {
          if (done) return;
          this.forget(req);
          routed.call(server, req, res);
        },
        () => {
          this.forget(req);
          if (!res.headersSent) routed.call(server, req, res);
          else res.destroy();
        },
      );
    });
  }
}

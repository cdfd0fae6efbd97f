import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WeightedLru } from '../../shared/lru.js';
import type { BuiltPresentation } from './presentation-builder.js';
import { lastModified } from './presentation-lookup.js';
import { hashText } from './text-hash.js';

export interface RenderedManifest {
  body: Buffer;
  gzip?: Buffer;
  etag: string;
}

/** What a manifest response needs besides the text: its cache key, type and freshness. */
export interface ManifestResponse {
  /** The manifest's URL within its locator (a manifest depends only on the presentation and its URL). */
  key: string;
  contentType: string;
  presentation: BuiltPresentation;
  maxAgeSec: number;
  isHead: boolean;
  /**
   * What else the text depends on that the presentation's version does not say (the applied filters and their
   * version): part of the ETag, so an edited filter never validates a client's copy of the old manifest.
   */
  variant?: string;
}

/** Whether a request gets the gzip body: only bodies worth compressing, only to clients that take gzip. */
export function wantsGzip(rendered: RenderedManifest, acceptEncoding: string | string[] | undefined): boolean {
  return rendered.body.length > 1024 && /\bgzip\b/.test(String(acceptEncoding ?? ''));
}

/**
 * Answers manifest requests: each is rendered once per (presentation version, URL) and kept with its gzip and
 * ETag in a 16 MB LRU (a 2-hour HLS playlist renders in ~1.5 ms, then answers in ~0.5 ms).
 */
export class ManifestResponder {
  private readonly rendered = new WeightedLru<string, RenderedManifest>(16 * 1024 * 1024, (m) => m.body.length + (m.gzip?.length ?? 0) + 200);

  /** Sends the manifest; returns what was sent (for the origin's hot routes), undefined for a 304. */
  send(req: FastifyRequest, reply: FastifyReply, response: ManifestResponse, render: () => string): RenderedManifest | undefined {
    const { presentation } = response;
    const cacheKey = `${presentation.etag}|${response.key}`;
    let rendered = this.rendered.get(cacheKey);
    if (!rendered) {
      const text = render();
      const variant = response.variant ? `-${hashText(response.variant)}` : '';
      rendered = { body: Buffer.from(text, 'utf8'), etag: `"${presentation.etag.slice(1, -1)}${variant}-${hashText(text)}"` };
      this.rendered.set(cacheKey, rendered);
    }
    void reply
      .header('content-type', response.contentType)
      .header('etag', rendered.etag)
      .header('last-modified', lastModified(presentation))
      .header('cache-control', `public, max-age=${response.maxAgeSec}`)
      .header('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === rendered.etag) {
      void reply.code(304).send();
      return undefined;
    }
    let body = rendered.body;
    if (wantsGzip(rendered, req.headers['accept-encoding'])) {
      if (!rendered.gzip) {
        rendered.gzip = gzipSync(body, { level: 6 });
        this.rendered.set(cacheKey, rendered); // weigh it again with its gzip
      }
      body = rendered.gzip;
      void reply.header('content-encoding', 'gzip');
    }
    void reply.header('content-length', String(body.length));
    void reply.send(response.isHead ? undefined : body);
    return rendered;
  }
}

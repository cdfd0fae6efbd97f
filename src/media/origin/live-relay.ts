import crypto from 'node:crypto';
import http from 'node:http';
import { pipeline } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../../shared/log.js';

/** What is live now, as the store says: assets live outputs record into, and running events' preview locators. */
export interface LiveTargets {
  assetIds: string[];
  /** Lower-case GUIDs. */
  previewLocators: string[];
}

/** Headers a relay sets: the client's address, vouched for by the secret both processes share. */
const clientHeader = 'x-reel-relay-client';
const secretHeader = 'x-reel-relay-secret';

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization']);

/**
 * Live playback in a process without the live runtime (an origin process, REEL_ORIGIN_PROCESSES ≥ 2): the runtime's
 * growing presentations exist only in the main process, so requests for what is live are relayed there (the main
 * process serves every playback URL too) and the answer is streamed back as it comes, never buffered. Which assets
 * and preview locators are live is read from the store once a second in the background, so a request never waits
 * for it; for up to that long after a start or stop, a request is answered from storage (a 404 before the first
 * segment, VOD after) or relayed to a main process that answers from storage itself.
 *
 * The relayed request carries the client's address and a secret the main process generated, so endpoint address
 * allow-lists are checked against the client there (this process has checked them already); see
 * `relayedClientAddress`.
 */
export class LiveRelay {
  #assets = new Set<string>();
  #previews = new Set<string>();
  readonly #target: URL;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  readonly #timer: NodeJS.Timeout;
  readonly #log: Logger;
  #loading = false;

  constructor(
    private readonly options: {
      /** The main process's playback base URL, e.g. http://127.0.0.1:8080. */
      targetUrl: string;
      secret: string;
      load: () => Promise<LiveTargets>;
      refreshMs?: number;
      log: Logger;
    },
  ) {
    this.#target = new URL(options.targetUrl);
    this.#log = options.log.child({ component: 'origin' });
    this.#timer = setInterval(() => void this.refresh(), options.refreshMs ?? 1000);
    this.#timer.unref();
  }

  /** Reads what is live now; a failed read keeps the last answer (logged), so a database blip does not end live playback. */
  async refresh(): Promise<void> {
    if (this.#loading) return;
    this.#loading = true;
    try {
      const targets = await this.options.load();
      this.#assets = new Set(targets.assetIds);
      this.#previews = new Set(targets.previewLocators);
    } catch (err) {
      this.#log.warn({ err }, 'could not read the live targets; keeping the last ones');
    } finally {
      this.#loading = false;
    }
  }

  isLiveAsset(assetId: string): boolean {
    return this.#assets.has(assetId);
  }

  isLivePreview(locatorId: string): boolean {
    return this.#previews.has(locatorId.toLowerCase());
  }

  /** Sends `req` to the main process and streams its answer (status, headers, body) back to the client. */
  relay(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    void reply.hijack();
    const res = reply.raw;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!hopByHop.has(name) && value !== undefined) headers[name] = value;
    headers[clientHeader] = req.ip;
    headers[secretHeader] = this.options.secret;
    return new Promise<void>((resolve) => {
      const upstream = http.request(
        {
          protocol: this.#target.protocol,
          hostname: this.#target.hostname,
          port: this.#target.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.#agent,
        },
        (answer) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) if (!hopByHop.has(name) && value !== undefined) out[name] = value;
          res.writeHead(answer.statusCode ?? 502, out);
          pipeline(answer, res, (err) => {
            if (err && !res.destroyed) res.destroy();
            resolve();
          });
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) {
          this.#log.error({ err, url: req.url }, 'live relay to the main process failed');
          const body = JSON.stringify({ error: { code: 'LiveRelayFailed', detail: 'The live stream is not reachable now; try again' } });
          res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'access-control-allow-origin': '*' });
          res.end(body);
        } else if (!res.destroyed) {
          res.destroy();
        }
        resolve();
      });
      // The client went away: stop asking the main process for the rest.
      res.once('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end();
    });
  }

  close(): void {
    clearInterval(this.#timer);
    this.#agent.destroy();
  }
}

/** A secret for one main process and its origin processes (never stored, never logged). */
export function createRelaySecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/**
 * The client's address for the endpoint's allow-list in the main process: the one a relay vouched for with
 * `secret`, else the connection's own.
 */
export function relayedClientAddress(secret: string): (req: FastifyRequest) => string {
  const expected = Buffer.from(secret);
  return (req) => {
    const given = req.headers[secretHeader];
    const client = req.headers[clientHeader];
    if (typeof given !== 'string' || typeof client !== 'string') return req.ip;
    const got = Buffer.from(given);
    return got.length === expected.length && crypto.timingSafeEqual(got, expected) ? client : req.ip;
  };
}

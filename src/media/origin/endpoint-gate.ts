import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError, UnavailableError } from '../../shared/errors.js';
import { endpointHostLabel, endpointLabelSplits, endpointNameInLabel } from '../../shared/endpoint-host.js';
import { defaultEndpointName } from '../../store/streaming-endpoint-repository.js';
import { crossSiteOrigins } from './cross-site.js';
import { isAllowedAddress } from '../../shared/ip-allow.js';
import type { EndpointView, PlaybackResolver, ResolvedLocator } from './playback-resolver.js';

/**
 * The streaming endpoint a request came to and whether it may pass: the Host `{endpoint}-{project}.{domain}`
 * names the endpoint (any other host means `default`), which must be Running and allow the client's address;
 * its cross-site policies decide the CORS headers.
 */
export class EndpointGate {
  constructor(
    private readonly resolver: PlaybackResolver,
    private readonly streamingDomain: () => string,
    /** The client's address for allow-lists: the connection's, or the one an origin process relayed for (live-relay.ts). */
    private readonly clientAddress: (req: FastifyRequest) => string = (req) => req.ip,
  ) {}

  /** The endpoint serving `resolved`'s project on this request's host: 404 unknown, 503 stopped, 403 address refused. */
  async admit(req: FastifyRequest, resolved: ResolvedLocator): Promise<EndpointView> {
    const name = this.nameFor(req.headers.host, resolved.projectName);
    const endpoint = name ? await this.resolver.endpoint(resolved.projectId, name) : undefined;
    if (!endpoint) throw new NotFoundError('StreamingEndpointNotFound', 'Streaming endpoint not found for this host');
    if (endpoint.state !== 'Running')
      throw new UnavailableError('StreamingEndpointStopped', `Streaming endpoint '${endpoint.name}' is not running (${endpoint.state})`);
    const allow = (endpoint.properties.accessControl as { ip?: { allow?: Array<{ address: string; subnetPrefixLength?: number }> } } | undefined)?.ip?.allow;
    if (allow && allow.length > 0 && !isAllowedAddress(this.clientAddress(req), allow)) {
      throw new ForbiddenError('IpNotAllowed', `Streaming endpoint '${endpoint.name}' does not allow this client address`);
    }
    return endpoint;
  }

  /** The endpoint a host names when no locator says which project it is (`/crossdomain.xml`); undefined for other hosts. */
  async ofHost(host: string | undefined): Promise<EndpointView | undefined> {
    const label = endpointHostLabel(host, this.streamingDomain());
    if (label === undefined) return undefined;
    for (const split of endpointLabelSplits(label)) {
      const project = await this.resolver.projectByName(split.project);
      if (project) return this.resolver.endpoint(project, split.endpoint);
    }
    return undefined;
  }

  /** An endpoint host names the endpoint; any other host (an IP, the API host) means `default`. */
  nameFor(host: string | undefined, projectName: string): string | undefined {
    if (!host) return defaultEndpointName;
    const label = endpointHostLabel(host, this.streamingDomain());
    return label === undefined ? defaultEndpointName : endpointNameInLabel(label, projectName);
  }
}

/** Whether the endpoint admits only some client addresses. */
export function hasAllowList(endpoint: EndpointView): boolean {
  const allow = (endpoint.properties.accessControl as { ip?: { allow?: unknown[] } } | undefined)?.ip?.allow;
  return !!allow && allow.length > 0;
}

/** Whether a playback answer is the same for every client: no address allow-list, CORS for any origin. */
export function answersAnyClient(endpoint: EndpointView): boolean {
  return !hasAllowList(endpoint) && crossSiteOrigins(endpoint.properties.crossSiteAccessPolicies) === '*';
}

/** CORS for a playback response: the origins the endpoint's cross-site policies allow (all without policies). */
export function applyCors(req: FastifyRequest, reply: FastifyReply, endpoint: EndpointView): void {
  const allowed = crossSiteOrigins(endpoint.properties.crossSiteAccessPolicies);
  const origin = req.headers.origin;
  const value = allowed === '*' ? '*' : origin && allowed.includes(origin) ? origin : undefined;
  if (!value) void reply.removeHeader('access-control-allow-origin');
  if (value) void reply.header('access-control-allow-origin', value).header('access-control-expose-headers', 'content-length, content-range, etag');
  if (value && value !== '*') void reply.header('vary', 'origin');
}

/**
 * Streaming endpoint host names, `{endpoint}-{project}.{streaming domain}` (MK.IO's
 * `{endpoint}-{project}.streaming.mediakind.com`): written by the control plane (an endpoint's `hostName`) and
 * read back by the origin (which endpoint a playback request came to). Both planes use this one grammar, so
 * every host the API hands out is one the origin recognises. Both names may contain `-`.
 */

/** The host name of an endpoint: `endpointHost('default', 'demo', 'localhost:8080')` → `default-demo.localhost:8080`. */
export function endpointHost(endpoint: string, project: string, domain: string): string {
  return `${endpoint}-${project}.${domain}`;
}

/**
 * The `{endpoint}-{project}` label of a Host header under the streaming domain, lowercased, or undefined for any
 * other host (an IP address, the API's host). Ports are ignored on both sides.
 */
export function endpointHostLabel(host: string | undefined, domain: string): string | undefined {
  if (!host) return undefined;
  const hostName = host.toLowerCase().replace(/:\d+$/, '');
  const domainHost = domain.toLowerCase().replace(/:\d+$/, '');
  if (!hostName.endsWith(`.${domainHost}`)) return undefined;
  return hostName.slice(0, -(domainHost.length + 1));
}

/** The endpoint name in a label when its project is known, or undefined when the label is not that project's. */
export function endpointNameInLabel(label: string, projectName: string): string | undefined {
  const suffix = `-${projectName.toLowerCase()}`;
  if (!label.endsWith(suffix)) return undefined;
  return label.slice(0, -suffix.length);
}

/**
 * Every way to read a label as `{endpoint}-{project}` when the project is not known, shortest endpoint name
 * first (`a-b-c` → `a` of `b-c`, then `a-b` of `c`); the caller keeps the first whose project exists.
 */
export function endpointLabelSplits(label: string): Array<{ endpoint: string; project: string }> {
  const splits: Array<{ endpoint: string; project: string }> = [];
  for (let i = label.indexOf('-'); i > 0; i = label.indexOf('-', i + 1)) {
    splits.push({ endpoint: label.slice(0, i), project: label.slice(i + 1) });
  }
  return splits;
}

/**
 * The host name in a live event's ingest URLs when a streaming domain is configured (its wildcard DNS reaches this
 * server, as it does for endpoints). MK.IO's forms: `in-{id}.{region}.streaming.mediakind.com` by default, and with
 * `useStaticHostname` a name made of `hostnamePrefix` (the event name when none is given) and the account, which
 * survives deleting and re-creating the event. Here: `in-{eventId}.{domain}` and `{prefix}-{project}.{domain}`.
 * The ingest listeners admit by access token, never by host name, so any of these reaches the same listener; the
 * domain's port (an HTTP port) is dropped.
 */
export function ingestHost(event: { id: string; name: string; useStaticHostname: boolean; hostnamePrefix?: string }, project: string, domain: string): string {
  const domainHost = domain.toLowerCase().replace(/:\d+$/, '');
  const label = event.useStaticHostname ? `${event.hostnamePrefix || event.name}-${project}` : `in-${event.id}`;
  // A DNS label holds 63 characters; the listeners never read it, so a cut label still works.
  return `${label.toLowerCase().slice(0, 63).replace(/-+$/, '')}.${domainHost}`;
}

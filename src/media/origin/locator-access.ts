import { ForbiddenError, GoneError, NotFoundError } from '../../shared/errors.js';
import { policySchemes, type EnabledProtocols } from '../../shared/streaming-policies.js';
import type { ResolvedLocator } from './playback-resolver.js';

const protocolNames: Record<keyof EnabledProtocols, string> = { hls: 'HLS', dash: 'DASH', smoothStreaming: 'Smooth Streaming', download: 'download' };

/** A locator plays only inside its time window and while not suppressed (404 before it, 410 after it). */
export function checkLocatorWindow(resolved: ResolvedLocator): void {
  const now = Date.now();
  const { start_time: start, end_time: end } = resolved.locator;
  if (resolved.locatorExtra.suppressed === true) throw new NotFoundError('LocatorSuppressed', 'Streaming locator not found (suppressed)');
  if (start && Date.parse(start) > now) throw new NotFoundError('LocatorNotStarted', 'Streaming locator not found (its start time has not come)');
  if (end && Date.parse(end) <= now) throw new GoneError('LocatorExpired', 'The streaming locator has expired');
}

/**
 * The locator's policy must enable `protocol` in the clear: downloads are never encrypted, and a hot route
 * (remembered only for clear answers) re-checks this. Streaming requests choose their protection in
 * protection-plan.ts.
 */
export function requireClearProtocol(resolved: ResolvedLocator, protocol: keyof EnabledProtocols): void {
  const schemes = policySchemes(resolved.policyProperties);
  if (schemes.find((s) => s.scheme === 'NoEncryption')?.protocols[protocol]) return;
  const encrypted = schemes.some((s) => s.scheme !== 'NoEncryption' && s.protocols[protocol]);
  throw new ForbiddenError(
    'ProtocolNotEnabled',
    encrypted
      ? `Streaming policy '${resolved.locator.policy_name}' enables ${protocolNames[protocol]} only with encryption, which downloads and this path do not carry`
      : `Streaming policy '${resolved.locator.policy_name}' does not enable ${protocolNames[protocol]}`,
  );
}

import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Where a container physically lives, as one string that is the same for every account reaching it: two assets
 * of different accounts (or projects) over one container must be recognised as such before one of them deletes
 * it or a second project moves in. Locations end in `/`; two overlap when one starts with the other (Local
 * directories can nest, cloud containers cannot). Host aliases (a CNAME, an IP for a name) are not resolved.
 */

/** `https://acct.blob.core.windows.net` and `http://127.0.0.1:10000/devstoreaccount1/` alike. */
export function azureLocation(serviceUrl: string, container: string): string {
  const url = new URL(serviceUrl);
  return `azure://${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '').toLowerCase()}/${container}/`;
}

/** AWS bucket names are global; an S3-compatible service is named by its endpoint. */
export function s3Location(config: { bucketName: string; endpoint?: string }, container: string): string {
  const service = config.endpoint
    ? (() => {
        const url = new URL(config.endpoint);
        return `${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
      })()
    : 'aws';
  return `s3://${service}/${config.bucketName}/${container}/`;
}

/** Google bucket names are global; a GCS-compatible service (an emulator) is named by its endpoint. */
export function gcsLocation(config: { bucketName: string; endpoint?: string }, container: string): string {
  const service = config.endpoint
    ? (() => {
        const url = new URL(config.endpoint);
        return `${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
      })()
    : 'google';
  return `gs://${service}/${config.bucketName}/${container}/`;
}

/** `realBase` is the account directory with symlinks resolved. */
export function localLocation(realBase: string, container: string): string {
  return `file://${realBase.replace(/\/+$/, '')}/${container}/`;
}

export function locationsOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * The location of an asset's container computed from its account's stored settings, without opening the account:
 * for rows saved before locations were recorded (the migration's backfill, and any row still without one).
 */
export async function locationFromSettings(type: string, config: Record<string, unknown>, container: string): Promise<string> {
  if (type === 'Microsoft.Storage') return azureLocation(String(config.url), container);
  if (type === 'AWS.S3') return s3Location({ bucketName: String(config.bucketName), endpoint: config.endpoint as string | undefined }, container);
  if (type === 'Google.Storage') return gcsLocation({ bucketName: String(config.bucketName), endpoint: config.endpoint as string | undefined }, container);
  return localLocation(await realpathNearest(path.resolve(String(config.path))), container);
}

/** realpath of `p`, or of its nearest existing ancestor with the missing tail appended. */
async function realpathNearest(p: string): Promise<string> {
  const tail: string[] = [];
  for (let current = p; ; current = path.dirname(current)) {
    try {
      return path.join(await fsp.realpath(current), ...tail);
    } catch {
      if (path.dirname(current) === current) return p;
      tail.unshift(path.basename(current));
    }
  }
}

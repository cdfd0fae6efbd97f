import { createHmac } from 'node:crypto';
import { safeEqual } from '../shared/ids.js';
import { ForbiddenError, UnauthorizedError } from '../shared/errors.js';

/**
 * A file grant lets its holder read (or write) blobs of one storage account without an API token: the
 * signed URLs of getFileAccessInfo, uploads and ffprobe. It names an account, a container and either one
 * blob or a path prefix, a mode and an expiry, signed with HMAC-SHA256 by the server's secret. A grant does
 * exactly its mode: a write grant (an upload URL) cannot read, a read grant cannot write.
 */
export interface FileGrant {
  /** Storage account id. */
  a: string;
  /** Container. */
  c: string;
  /** Blob path, or prefix when it ends with `/` (`''` = whole container). */
  p: string;
  m: 'r' | 'w';
  /** Expiry, Unix seconds. */
  e: number;
}

export class FileGrants {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = createHmac('sha256', 'reel-file-grants').update(secretKey).digest();
  }

  /**
   * The URL of the granted file (of the folder for a prefix grant) on Reel's `/files` route under `baseUrl`,
   * carrying the grant: `{baseUrl}/files/{account}/{container}/{blob}?token=…`. The one way such URLs are made.
   */
  signedUrl(baseUrl: string, grant: FileGrant): string {
    return `${fileUrl(baseUrl, grant.a, grant.c, grant.p)}?token=${this.sign(grant)}`;
  }

  /** The grant alone, for clients that send it as `?token=` or `Authorization: Bearer` themselves. */
  sign(grant: FileGrant): string {
    const body = Buffer.from(JSON.stringify(grant)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** Verifies a grant and that it covers `mode` on `accountId/container/blob`; 401 if bad or expired, 403 if it covers something else. */
  verify(token: string, accountId: string, container: string, blob: string, mode: 'r' | 'w'): FileGrant {
    const [body, mac] = token.split('.');
    if (!body || !mac || !safeEqual(mac, this.mac(body))) throw new UnauthorizedError('InvalidSignature', 'The file URL signature is invalid');
    const grant = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as FileGrant;
    if (grant.e * 1000 < Date.now()) throw new UnauthorizedError('Expired', 'The file URL has expired');
    const covers = grant.p === '' || grant.p.endsWith('/') ? blob.startsWith(grant.p) : blob === grant.p;
    // Single-purpose: an upload URL handed to a browser must not also download (nor a read grant upload).
    if (grant.a !== accountId || grant.c !== container || !covers || grant.m !== mode) {
      throw new ForbiddenError('Forbidden', 'The file URL does not grant access to this file');
    }
    return grant;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** `{baseUrl}/files/{account}/{container}` and the blob's path, each segment encoded; no blob names the container. */
export function fileUrl(baseUrl: string, accountId: string, container: string, blob = ''): string {
  const base = `${baseUrl}/files/${accountId}/${container}`;
  return blob === '' ? base : `${base}/${encodeBlobPath(blob)}`;
}

/** Encodes each path segment, keeping the `/` separators. */
function encodeBlobPath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

import { createHmac } from 'node:crypto';

/** Header carrying the HMAC-SHA256 of the delivered body under the rule's signing secret: `sha256=<hex>`. */
export const signatureHeader = 'x-reel-signature-256';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Headers for serving a file whose bytes and stored content type come from a user (an uploader, a bucket):
 * `/files/...` and the origin's progressive downloads. They share an origin with the console and `/auth/token/`,
 * so a file a browser would render (HTML, SVG, XML, PDF…) would run its scripts as that origin. The file is
 * made inert four ways, each enough on its own in current browsers:
 * - its stored type is kept only when it is an inert media type, anything else becomes `application/octet-stream`;
 * - `X-Content-Type-Options: nosniff`, so no browser guesses a renderable type from the bytes;
 * - `Content-Disposition: attachment`, so a navigation downloads instead of rendering (players fetch with
 *   XHR/fetch or `<video>`, which ignore it);
 * - `Content-Security-Policy: sandbox; default-src 'none'`, so whatever still renders runs no script, has an
 *   opaque origin (no cookies, no same-origin fetch) and loads nothing.
 */

/** Types no browser executes: audio, video, raster images, subtitles as text, opaque bytes. */
const inertTypes =
  /^(video\/[\w.+-]+|audio\/[\w.+-]+|image\/(png|jpeg|gif|webp|avif|bmp)|application\/(mp4|octet-stream|vnd\.apple\.mpegurl|x-mpegurl)|text\/(vtt|plain))$/;

/** The stored type when it is inert (parameters such as `charset` dropped), else `application/octet-stream`. */
export function inertContentType(stored: string | undefined): string {
  const essence = (stored ?? '').split(';')[0].trim().toLowerCase();
  return inertTypes.test(essence) ? essence : 'application/octet-stream';
}

/** `attachment; filename=…` with an ASCII fallback and the UTF-8 name (RFC 6266 / 8187). */
export function attachmentDisposition(fileName: string): string {
  const base = fileName.split('/').pop() ?? fileName;
  const ascii = base.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

/** Every header that keeps a user's file inert, for a file named `fileName` stored with `storedType`. */
export function inertFileHeaders(fileName: string, storedType: string | undefined): Record<string, string> {
  return {
    'content-type': inertContentType(storedType),
    'x-content-type-options': 'nosniff',
    'content-disposition': attachmentDisposition(fileName),
    'content-security-policy': "sandbox; default-src 'none'; frame-ancestors 'none'",
  };
}

import { BadRequestError } from '../shared/errors.js';

/** MK.IO/Azure container rule: 3–63 chars, lower case letters, digits and single inner hyphens. */
const containerPattern = /^(?!.*--)(?=[a-z0-9-]{3,63}$)(?!-)[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function isValidContainerName(name: string): boolean {
  return containerPattern.test(name);
}

export function assertContainerName(name: string): string {
  if (!isValidContainerName(name)) {
    throw new BadRequestError(
      'InvalidContainerName',
      `Container name '${name}' is invalid: use 3-63 lower-case letters, digits and single hyphens, not starting or ending with a hyphen`,
    );
  }
  return name;
}

/**
 * Names a driver gives its in-flight writes (Local: `<dir>/.reel-tmp-<uuid>`, renamed into place when done).
 * No blob path may have a segment starting with it, so half-written files are never read, served or overwritten
 * through any route, whatever a grant covers.
 */
export const tempNamePrefix = '.reel-tmp-';

/** A name some segment of which is an in-flight write's (`tempNamePrefix`): never listed, read or written. */
export function isTempBlobPath(name: string): boolean {
  return name.split('/').some((segment) => segment.startsWith(tempNamePrefix));
}

/**
 * Validates a `/`-separated path inside a container (a blob name or a subPath). Rejects anything that could
 * leave the container: `..` or `.` segments, absolute paths, backslashes, NUL and control characters, and
 * still-encoded separators (a `%2F` that survived one decoding is an attempt to smuggle one past us); and
 * the names of in-flight writes (`tempNamePrefix`).
 */
export function assertBlobPath(value: string, what = 'path'): string {
  const bad = (why: string) => new BadRequestError('InvalidPath', `Invalid ${what} '${value.slice(0, 200)}': ${why}`);
  if (value.length === 0 || value.length > 1024) throw bad('length must be 1-1024');
  if (value.startsWith('/') || value.endsWith('/')) throw bad('must not start or end with /');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(value)) throw bad('backslashes and control characters are not allowed');
  if (/%(2f|5c|2e|00)/i.test(value)) throw bad('encoded separators are not allowed');
  for (const segment of value.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw bad('empty, . and .. segments are not allowed');
    if (segment.startsWith(tempNamePrefix)) throw bad(`names starting with '${tempNamePrefix}' are reserved for uploads in progress`);
  }
  return value;
}

/** Joins an optional subPath and a relative name into a blob path. */
export function joinBlobPath(subPath: string | null | undefined, name: string): string {
  return subPath ? `${subPath}/${name}` : name;
}

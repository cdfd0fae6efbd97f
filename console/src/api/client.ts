// The console's only way to the server: the same public API a script uses (same paths, same JSON bodies),
// sent same-origin with the `reel_session` cookie that `POST /auth/login` set.

/** An MK.IO error body (`{error:{code,detail,extraDetail},status,ref}`) turned into an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    /** One line per problem for validation errors (`body.properties.container must NOT have …`). */
    readonly problems: string[] = [],
    readonly ref?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/** Called once per 401, so the app can send the user back to sign-in. */
let onUnauthorized: (() => void) | undefined;
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

function toApiError(status: number, text: string, statusText: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; detail?: string; extraDetail?: { errors?: unknown } } | string; ref?: string };
    if (typeof body.error === 'string') return new ApiError(status, 'Error', body.error, [], body.ref);
    if (body.error?.detail) {
      const errors = Array.isArray(body.error.extraDetail?.errors) ? (body.error.extraDetail.errors as unknown[]).map(String) : [];
      return new ApiError(status, body.error.code ?? 'Error', body.error.detail, errors, body.ref);
    }
  } catch {
    // Not JSON: a proxy's error page, say. Fall through to the status line.
  }
  return new ApiError(status, `Http${status}`, `${status} ${statusText || 'error'}${text && text.length < 200 ? `: ${text}` : ''}`);
}

/** Sends one request; resolves with the parsed JSON body (undefined for an empty one), rejects with ApiError. */
export async function api<T = unknown>(method: string, path: string, body?: unknown, init: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // No content type without a body: Fastify refuses an empty body declared as JSON.
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'include', body: body === undefined ? undefined : JSON.stringify(body), signal: init.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NetworkError', 'The server could not be reached. Check that Reel is running and try again.');
  }
  const text = await res.text();
  if (!res.ok) {
    const error = toApiError(res.status, text, res.statusText);
    if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized?.();
    throw error;
  }
  if (text.length === 0) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/** v1 media API root of a project; every media resource also answers at `/api/ams/{project}`. */
export const mediaPath = (project: string) => `/api/v1/projects/${encodeURIComponent(project)}/media`;
export const seg = encodeURIComponent;

/** Readable text for any error a query or mutation can end with. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Splits an API error over a form's fields: validation lines naming `properties.x` / `spec.x` (or the path the
 * caller maps), and error codes that belong to one field. Whatever is left is for the form as a whole.
 */
export function fieldErrors(
  err: unknown,
  fields: Record<string, { paths?: string[]; codes?: string[] }>,
): { byField: Record<string, string>; general?: string } {
  const byField: Record<string, string> = {};
  if (!(err instanceof ApiError)) return { byField, general: errorText(err) };
  const lines = err.problems.length > 0 ? err.problems : [err.detail];
  const leftover: string[] = [];
  for (const line of lines) {
    const hit = Object.entries(fields).find(([, f]) => f.paths?.some((p) => mentions(line, p)));
    if (hit) byField[hit[0]] = byField[hit[0]] ? `${byField[hit[0]]}; ${tidy(line)}` : tidy(line);
    else leftover.push(line);
  }
  const byCode = Object.entries(fields).find(([, f]) => f.codes?.includes(err.code));
  if (byCode && leftover.length > 0 && !byField[byCode[0]]) {
    byField[byCode[0]] = leftover.map(tidy).join('; ');
    leftover.length = 0;
  }
  const general = leftover.length > 0 ? leftover.join('; ') : undefined;
  return { byField, general };
}

/** Whether a problem line names `path` as a whole dotted path (`properties.container`, not `…containerX`). */
function mentions(line: string, path: string): boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s.'])${escaped}(?=$|[\\s.'])`).test(line);
}

/** `body.properties.container must NOT have fewer than 3 characters` → `Must NOT have fewer than 3 characters`. */
function tidy(line: string): string {
  const text = line.replace(/^Invalid request:\s*/, '').replace(/^(body|querystring|params)(\.[\w@.$-]+)?\s+/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

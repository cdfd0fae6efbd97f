import assert from 'node:assert/strict';
import { assertMkioRequestAccepted, assertMkioResponse, type MkioDoc } from './mkio-contract.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface CallOptions {
  /**
   * Which MK.IO document to check the response (and request body) against. Defaults by path: media for
   * `/api/ams` and `/api/v1/projects`, management for `/api/v1/user` and `/api/v1/organization`. `false` for Reel's own extensions.
   */
  contract?: MkioDoc | false;
  /** Check the request body against MK.IO's request schema too (default: on when a contract applies). */
  checkRequest?: boolean;
  headers?: Record<string, string>;
}

/** Counts contract checks, so a suite can assert it really validated responses. */
export const contractStats = { responses: 0, requests: 0 };

function defaultDoc(path: string): MkioDoc | undefined {
  if (path.startsWith('/api/ams/') || /^\/api\/v1\/projects\/[^/?]+\/media\//.test(path)) return 'media';
  if (path.startsWith('/api/v1/user') || /^\/api\/v1\/projects(\/[^/?]+)?(\?|$)/.test(path)) return 'management';
  if (/^\/api\/v1\/organization(\/|\?|$)/.test(path)) return 'management';
  return undefined;
}

/**
 * A small HTTP client for tests: real fetch against the real server, and every response body checked against
 * MK.IO's published schema for that operation, so wire drift fails the test that caused it.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly auth: { token?: string; style?: 'x-mkio-token' | 'bearer'; cookie?: string } = {},
  ) {}

  withToken(token: string, style: 'x-mkio-token' | 'bearer' = 'x-mkio-token'): ApiClient {
    return new ApiClient(this.baseUrl, { token, style });
  }

  async call<T = any>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.auth.token) {
      if (this.auth.style === 'bearer') headers.authorization = `Bearer ${this.auth.token}`;
      else headers['x-mkio-token'] = this.auth.token;
    }
    if (this.auth.cookie) headers.cookie = this.auth.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const doc = options.contract === false ? undefined : (options.contract ?? defaultDoc(path));
    if (doc && body !== undefined && options.checkRequest !== false) {
      assertMkioRequestAccepted({ doc, method, path, body });
      contractStats.requests++;
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) parsed = JSON.parse(text);
    if (res.status >= 400) {
      // Every failure carries the MK.IO error body and never a stack trace.
      assert.equal(
        typeof (parsed as { error?: { code?: unknown } }).error?.code,
        'string',
        `${method} ${path}: error body expected, got ${text.slice(0, 300)}`,
      );
      assert.doesNotMatch(text, /\bat .+\.(ts|js):\d+/, 'a stack trace leaked');
    }
    if (doc) {
      assertMkioResponse({ doc, method, path, status: res.status, body: text.length === 0 ? undefined : parsed, allowUndocumented: res.status >= 400 });
      contractStats.responses++;
    }
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  }

  get<T = any>(path: string, options?: CallOptions) {
    return this.call<T>('GET', path, undefined, options);
  }
  put<T = any>(path: string, body: unknown, options?: CallOptions) {
    return this.call<T>('PUT', path, body, options);
  }
  post<T = any>(path: string, body?: unknown, options?: CallOptions) {
    return this.call<T>('POST', path, body, options);
  }
  patch<T = any>(path: string, body: unknown, options?: CallOptions) {
    return this.call<T>('PATCH', path, body, options);
  }
  delete<T = any>(path: string, options?: CallOptions) {
    return this.call<T>('DELETE', path, undefined, options);
  }
}

/** Signs in through `/auth/login` and returns the session cookie, as a browser would hold it. */
export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `login failed: ${text}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0];
  assert.match(cookie, /^reel_session=/);
  return cookie;
}

/** The KB flow: with a browser session, `GET /auth/token/` gives `{user_id, token}`. */
export async function tokenFromSession(baseUrl: string, cookie: string): Promise<{ user_id: string; token: string }> {
  const res = await fetch(`${baseUrl}/auth/token/`, { headers: { cookie } });
  const text = await res.text();
  assert.equal(res.status, 200, `/auth/token/ failed: ${text}`);
  return JSON.parse(text) as { user_id: string; token: string };
}

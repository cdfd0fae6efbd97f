import { Type, type TSchema } from '@sinclair/typebox';
import { BadRequestError } from '../../shared/errors.js';
import { parseFilter, parseOrderBy, type FilterTerm, type OrderTerm } from './odata.js';

/** AMS returned pages of at most 1000 items; MK.IO's default is unconfirmed, so Reel keeps AMS's. */
export const maxPageSize = 1000;

export interface ListQuery {
  $top?: string;
  $skiptoken?: string;
  $orderby?: string;
  $filter?: string;
  $label?: string | string[];
  $label_key?: string | string[];
  label_key?: string | string[];
}

export interface ListRequest {
  top: number;
  skip: number;
  filter: FilterTerm[];
  orderBy: OrderTerm[];
}

/**
 * Past this offset no list has rows; larger values are refused rather than handed to the database, whose offset
 * types differ (SQLite's 64-bit integer, PostgreSQL's bigint) and fail with a 500 on e.g. `1e20`.
 */
export const maxSkip = 2_147_483_647;

/** Plain decimal digits only: `1e20`, `0x10`, `1.5`, `-1`, `+1` and blanks are not page positions. */
const digits = /^[0-9]{1,16}$/;

/**
 * The one reader of `$top` and `$skiptoken`, for every list: whole decimal numbers, `$top` from 1 (larger than a
 * page is a full page), `$skiptoken` from 0 to `maxSkip` (past the end is an empty page, as in MK.IO). Anything
 * else is a 400 naming the parameter.
 */
export function parsePaging(query: Pick<ListQuery, '$top' | '$skiptoken'>): { top: number; skip: number } {
  const topText = query.$top;
  if (topText !== undefined && (typeof topText !== 'string' || !digits.test(topText) || Number(topText) < 1)) {
    throw new BadRequestError('InvalidTop', `Invalid $top: use a whole number from 1 (pages hold at most ${maxPageSize})`);
  }
  const skipText = query.$skiptoken;
  if (skipText !== undefined && (typeof skipText !== 'string' || !digits.test(skipText) || Number(skipText) > maxSkip)) {
    throw new BadRequestError('InvalidSkipToken', `Invalid $skiptoken: use the value from @odata.nextLink (a whole number from 0 to ${maxSkip})`);
  }
  return {
    top: topText === undefined ? maxPageSize : Math.min(Number(topText), maxPageSize),
    skip: skipText === undefined ? 0 : Number(skipText),
  };
}

export function parseListQuery(query: ListQuery, filterable: ReadonlySet<string>, sortable: ReadonlySet<string>): ListRequest {
  return {
    ...parsePaging(query),
    filter: parseFilter(single(query, '$filter'), filterable),
    orderBy: parseOrderBy(single(query, '$orderby'), sortable),
  };
}

/** A list option given once; a repeated one (`?$filter=a&$filter=b` arrives as an array) is a 400. */
function single(query: ListQuery, name: '$filter' | '$orderby'): string | undefined {
  const value: unknown = query[name];
  if (value !== undefined && typeof value !== 'string') throw new BadRequestError('InvalidQuery', `${name} may be given only once`);
  return value;
}

/**
 * For lists MK.IO documents no query options for (legacy storage, user tokens: whole lists with no next link):
 * an OData option given anyway is a 400 naming it, rather than silently ignored.
 */
export function refuseListOptions(query: unknown): void {
  const given = Object.keys(query ?? {});
  const refused = ['$filter', '$orderby', '$top', '$skiptoken', '$skip'].find((name) => given.includes(name));
  if (refused) throw new BadRequestError('InvalidQuery', `${refused} is not supported on this list: it always returns every item`);
}

/** The list options a next page repeats; each was validated by the parsers above before a page was read. */
const carriedOptions = ['$filter', '$orderby', '$label', '$label_key', 'label_key'];

export interface ListBody<T> {
  value: T[];
  supplemental: {
    kind: string;
    operation: 'list';
    count: number;
    pagination: { start: number; end: number; records: number; total: number };
    subscription?: { id: string; name: string };
  };
  '@odata.nextLink'?: string;
}

/** Response schema of `listBody` around `item`, the schema of one element. */
export function listBodySchema(item: TSchema): TSchema {
  return Type.Object({
    value: Type.Array(item),
    supplemental: Type.Object({
      kind: Type.String(),
      operation: Type.Literal('list'),
      count: Type.Integer(),
      pagination: Type.Object({ start: Type.Integer(), end: Type.Integer(), records: Type.Integer(), total: Type.Integer() }),
      subscription: Type.Optional(Type.Object({ id: Type.String(), name: Type.String() })),
    }),
    '@odata.nextLink': Type.Optional(Type.String()),
  });
}

/**
 * The MK.IO list envelope. `@odata.nextLink` is host-relative (the .NET client prepends its host, the Go tool
 * reads the part after `skiptoken=`) and keeps the caller's list options ($filter, $orderby, labels).
 */
export function listBody<T>(options: {
  kind: string;
  items: T[];
  total: number;
  request: ListRequest;
  url: string;
  project?: { id: string; name: string };
}): ListBody<T> {
  const { items, total, request } = options;
  const body: ListBody<T> = {
    value: items,
    supplemental: {
      kind: options.kind,
      operation: 'list',
      count: items.length,
      pagination: { start: request.skip, end: request.skip + items.length, records: items.length, total },
      ...(options.project ? { subscription: options.project } : {}),
    },
  };
  if (request.skip + items.length < total) {
    const [pathname, search = ''] = options.url.split('?');
    const sent = new URLSearchParams(search);
    // Only validated options are carried over: the link never echoes other query text the caller made up.
    const params = new URLSearchParams();
    for (const name of carriedOptions) for (const value of sent.getAll(name)) params.append(name, value);
    params.set('$top', String(request.top));
    params.set('$skiptoken', String(request.skip + items.length));
    body['@odata.nextLink'] = `${pathname}?${params.toString().replace(/%24/g, '$')}`;
  }
  return body;
}

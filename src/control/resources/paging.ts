import { BadRequestError } from '../../shared/errors.js';
import { parseFilter, parseOrderBy, type FilterTerm, type OrderTerm } from './odata.js';

/** AMS returned pages of at most 1000 items; MK.IO's default is unconfirmed, so Reel keeps AMS's. */
export const maxPageSize = 1000;

export interface ListQuery {
  $top?: string; $skiptoken?: string; $orderby?: string; $filter?: string;
  $label?: string | string[]; $label_key?: string | string[]; label_key?: string | string[];
}

export interface ListRequest {
  top: number;
  skip: number;
  filter: FilterTerm[];
  orderBy: OrderTerm[];
}

export function parseListQuery(query: ListQuery, filterable: ReadonlySet<string>, sortable: ReadonlySet<string>): ListRequest {
  const top = query.$top === undefined ? maxPageSize : Number(query.$top);
  if (!Number.isInteger(top) || top < 1) throw new BadRequestError('InvalidTop', `Invalid $top '${query.$top}': use a whole number from 1`);
  const skip = query.$skiptoken === undefined ? 0 : Number(query.$skiptoken);
  if (!Number.isInteger(skip) || skip < 0) throw new BadRequestError('InvalidSkipToken', `Invalid $skiptoken '${query.$skiptoken}'; take it from @odata.nextLink`);
  return {
    top: Math.min(top, maxPageSize),
    skip,
    filter: parseFilter(query.$filter, filterable),
    orderBy: parseOrderBy(query.$orderby, sortable),
  };
}

export interface ListBody<T> {
  value: T[];
  supplemental: {
    kind: string; operation: 'list'; count: number;
    pagination: { start: number; end: number; records: number; total: number };
    subscription?: { id: string; name: string };
  };
  '@odata.nextLink'?: string;
}

/**
 * The MK.IO list envelope. `@odata.nextLink` is host-relative (the .NET client prepends its host, the Go tool
 * reads the part after `skiptoken=`) and keeps the caller's other query parameters.
 */
export function listBody<T>(options: {
  kind: string; items: T[]; total: number; request: ListRequest; url: string;
  project?: { id: string; name: string };
}): ListBody<T> {
  const { items, total, request } = options;
  const body: ListBody<T> = {
    value: items,
    supplemental: {
      kind: options.kind, operation: 'list', count: items.length,
      pagination: { start: request.skip, end: request.skip + items.length, records: items.length, total },
      ...(options.project ? { subscription: options.project } : {}),
    },
  };
  if (request.skip + items.length < total) {
    const [pathname, search = ''] = options.url.split('?');
    const params = new URLSearchParams(search);
    params.set('$top', String(request.top));
    params.set('$skiptoken', String(request.skip + items.length));
    body['@odata.nextLink'] = `${pathname}?${params.toString().replace(/%24/g, '$')}`;
  }
  return body;
}

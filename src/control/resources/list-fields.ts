import { BadRequestError } from '../../shared/errors.js';
import type { FieldFilter, FieldPageQuery, FieldSource } from '../../store/list-query.js';
import type { FilterTerm } from './odata.js';
import { parseListQuery, type ListQuery, type ListRequest } from './paging.js';

/**
 * One `$filter`/`$orderby` field of a list: where it is stored, whether it holds a date-time (values are read
 * as dates and compared in one form) and whether MK.IO documents it for sorting (`sort: false`: filter only).
 */
export interface ListField extends FieldSource {
  time?: boolean;
  sort?: boolean;
}

/**
 * The audit fields every MK.IO media list documents (`created`, `createdBy`…, `updated`…), over Reel's audit
 * columns. `…Email`/`…Name` are filter-only in MK.IO's tables; Reel records the author's e-mail in `created_by`.
 */
export const auditFields: Record<string, ListField> = {
  name: { column: 'name' },
  id: { column: 'id' },
  created: { column: 'created_at', time: true },
  createdBy: { column: 'created_by' },
  createdByEmail: { column: 'created_by', sort: false },
  createdByName: { column: 'created_by', sort: false },
  updated: { column: 'updated_at', time: true },
  updatedBy: { column: 'updated_by' },
  updatedByEmail: { column: 'updated_by', sort: false },
  updatedByName: { column: 'updated_by', sort: false },
};

/** `properties/created` and `properties/lastModified`, as the resources that document them name them. */
export const propertiesTimes: Record<string, ListField> = {
  'properties/created': { column: 'created_at', time: true },
  'properties/lastModified': { column: 'updated_at', time: true },
};

/** A list's documented fields: parses its query (400 for anything else) into a page the repository runs. */
export class ListFields {
  readonly filterable: ReadonlySet<string>;
  readonly sortable: ReadonlySet<string>;

  constructor(readonly fields: Readonly<Record<string, ListField>>) {
    this.filterable = new Set(Object.keys(fields));
    this.sortable = new Set(Object.keys(fields).filter((k) => fields[k].sort !== false));
  }

  /** The request (for the envelope and next link) and the page in stored terms. */
  parse(query: ListQuery): { request: ListRequest; page: FieldPageQuery } {
    const parsed = parseListQuery(query, this.filterable, this.sortable);
    const request: ListRequest = { ...parsed, filter: parsed.filter.map((t) => this.typed(t, query.$filter ?? '')) };
    return {
      request,
      page: {
        filter: request.filter.map((t): FieldFilter => ({ source: this.fields[t.field], op: t.op, value: t.value })),
        orderBy: request.orderBy.map((o) => ({ source: this.fields[o.field], direction: o.direction })),
        top: request.top,
        skip: request.skip,
      },
    };
  }

  /** A value of the field's kind: a date-time in one ISO form, a number for numbers; anything else is a 400. */
  private typed(term: FilterTerm, filter: string): FilterTerm {
    const field = this.fields[term.field];
    const fail = (why: string) => new BadRequestError('InvalidFilter', `Invalid $filter '${filter}': ${why}`);
    if (term.value === null) return term;
    if (field.type === 'number') {
      if (typeof term.value !== 'number') throw fail(`field '${term.field}' holds a number; compare it with a number`);
      return term;
    }
    if (field.time) {
      const t = typeof term.value === 'string' ? Date.parse(term.value) : NaN;
      if (Number.isNaN(t)) throw fail(`field '${term.field}' holds a date-time; compare it with one such as 2021-01-01T00:00:00Z`);
      return { ...term, value: new Date(t).toISOString() };
    }
    if (typeof term.value === 'boolean') throw fail(`field '${term.field}' holds text; quote the value ('…')`);
    return term;
  }
}

type Plain = string | number | null;

/** Compares as the databases do for Reel's lists (text by code point, missing values first). */
function compare(a: Plain, b: Plain): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = [...String(a)];
  const y = [...String(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const holds = {
  eq: (c: number) => c === 0,
  ne: (c: number) => c !== 0,
  gt: (c: number) => c > 0,
  ge: (c: number) => c >= 0,
  lt: (c: number) => c < 0,
  le: (c: number) => c <= 0,
};

/**
 * The same filter, order and page over records read in full (lists a project has only a handful of, whose
 * fields are computed rather than stored), with the SQL lists' semantics: a comparison with a missing value is
 * false except `eq null`/`ne null`, and equal values keep the given order.
 */
export function pageRecords<T>(all: readonly T[], request: ListRequest, valueOf: (item: T, field: string) => Plain): { items: T[]; total: number } {
  const matching = all.filter((item) =>
    request.filter.every((t) => {
      const v = valueOf(item, t.field);
      if (t.value === null) return t.op === 'ne' ? v !== null : v === null;
      if (v === null) return false;
      return holds[t.op](compare(v, typeof t.value === 'boolean' ? String(t.value) : t.value));
    }),
  );
  const sorted = matching
    .map((item, index) => ({ item, index }))
    .sort((p, q) => {
      for (const o of request.orderBy) {
        const c = compare(valueOf(p.item, o.field), valueOf(q.item, o.field));
        if (c !== 0) return o.direction === 'desc' ? -c : c;
      }
      return p.index - q.index;
    })
    .map((e) => e.item);
  return { items: sorted.slice(request.skip, request.skip + request.top), total: sorted.length };
}

import { sql, type Expression, type SqlBool } from 'kysely';

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** One `$filter` comparison on a stored column (the service maps MK.IO's field names to columns). */
export interface ColumnFilter<C extends string = string> {
  column: C;
  op: Comparison;
  value: string | number | boolean | null;
}
export interface ColumnOrder<C extends string = string> {
  column: C;
  direction: 'asc' | 'desc';
}

/** A page of a list: filters AND-ed, then the given order, then `top` rows after `skip`. */
export interface PageQuery<C extends string = string> {
  filter: Array<ColumnFilter<C>>;
  orderBy: Array<ColumnOrder<C>>;
  top: number;
  skip: number;
}

const operators = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/** One OData comparison as SQL on a text column; values are always bound parameters. */
export function sqlComparison(column: string, term: { op: Comparison; value: string | number | boolean | null }): Expression<SqlBool> {
  const ref = sql.ref(column);
  if (term.value === null) return term.op === 'ne' ? sql<SqlBool>`${ref} is not null` : sql<SqlBool>`${ref} is null`;
  return sql<SqlBool>`${ref} ${sql.raw(operators[term.op])} ${String(term.value)}`;
}

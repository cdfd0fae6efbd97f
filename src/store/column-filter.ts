import { sql, type Expression, type SqlBool } from 'kysely';

export type ColumnComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** One `$filter` comparison, already mapped from the wire field to a column of the table. */
export interface ColumnFilter<C extends string> { column: C; op: ColumnComparisonOp; value: string | number | boolean | null }
/** One `$orderby` term, already mapped from the wire field to a column of the table. */
export interface ColumnOrder<C extends string> { column: C; direction: 'asc' | 'desc' }

const operators = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/** The SQL of one comparison; values are bound as text, which is what every filterable column holds. */
export function columnComparison(filter: ColumnFilter<string>): Expression<SqlBool> {
  const ref = sql.ref(filter.column);
  if (filter.value === null) return filter.op === 'ne' ? sql<SqlBool>`${ref} is not null` : sql<SqlBool>`${ref} is null`;
  return sql<SqlBool>`${ref} ${sql.raw(operators[filter.op])} ${String(filter.value)}`;
}

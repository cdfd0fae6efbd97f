import { PostgresAdapter, sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { Database } from './database.js';

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

const operators = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/**
 * Where a list field's value is stored: a column, or a member of a JSON text column (`jsonKey`). `number`
 * compares numerically; everything else compares as text in code-point order on both databases (PostgreSQL is
 * told `collate "C"`, SQLite's default is already binary), so a sort or a `gt` answers alike everywhere.
 */
export interface FieldSource {
  column: string;
  jsonKey?: string;
  type?: 'text' | 'number';
}
export interface FieldFilter {
  source: FieldSource;
  op: Comparison;
  value: string | number | boolean | null;
}
export interface FieldOrder {
  source: FieldSource;
  direction: 'asc' | 'desc';
}
/** A page of a list whose fields may live in JSON: filters AND-ed, then the order, then `top` rows after `skip`. */
export interface FieldPageQuery {
  filter: FieldFilter[];
  orderBy: FieldOrder[];
  top: number;
  skip: number;
}

const jsonKeyPattern = /^[A-Za-z][A-Za-z0-9]*$/;

/** The SQL value of a field; JSON members are read as text, or as a number for `number` fields. */
export function fieldExpression(dialect: 'sqlite' | 'postgres', source: FieldSource): RawBuilder<unknown> {
  const ref = sql.ref(source.column);
  if (source.jsonKey === undefined) return sql`${ref}`;
  // Keys come from the code's field tables, never from a request; checked anyway since they are spliced in.
  if (!jsonKeyPattern.test(source.jsonKey)) throw new Error(`invalid JSON key ${source.jsonKey}`);
  if (dialect === 'postgres') {
    const member = sql`(${ref}::jsonb -> ${sql.lit(source.jsonKey)})`;
    return source.type === 'number'
      ? sql`(case when jsonb_typeof(${member}) = 'number' then (${ref}::jsonb ->> ${sql.lit(source.jsonKey)})::double precision end)`
      : sql`(case when jsonb_typeof(${member}) = 'string' then (${ref}::jsonb ->> ${sql.lit(source.jsonKey)}) end)`;
  }
  const path = sql.lit(`$.${source.jsonKey}`);
  return source.type === 'number'
    ? sql`(case when json_type(${ref}, ${path}) in ('integer', 'real') then cast(json_extract(${ref}, ${path}) as real) end)`
    : sql`(case when json_type(${ref}, ${path}) = 'text' then json_extract(${ref}, ${path}) end)`;
}

/** The field as it is compared and sorted: text fields in code-point order on PostgreSQL too. */
function comparable(dialect: 'sqlite' | 'postgres', source: FieldSource): RawBuilder<unknown> {
  const value = fieldExpression(dialect, source);
  return dialect === 'postgres' && source.type !== 'number' ? sql`(${value} collate "C")` : value;
}

/** One OData comparison on a field; values are always bound parameters. */
export function fieldComparison(dialect: 'sqlite' | 'postgres', term: FieldFilter): Expression<SqlBool> {
  const value = comparable(dialect, term.source);
  if (term.value === null) return term.op === 'ne' ? sql<SqlBool>`${value} is not null` : sql<SqlBool>`${value} is null`;
  const bound = term.source.type === 'number' ? Number(term.value) : String(term.value);
  return sql<SqlBool>`${value} ${sql.raw(operators[term.op])} ${bound}`;
}

/**
 * ORDER BY terms for a page: the requested fields, then creation time, name and id so that pages of equal
 * values never overlap or skip a row. Missing values sort first ascending and last descending on both databases.
 */
export function fieldOrdering(dialect: 'sqlite' | 'postgres', orderBy: FieldOrder[], tieBreak: string[] = ['created_at', 'name', 'id']): RawBuilder<unknown> {
  const terms = [...orderBy, ...tieBreak.map((column) => ({ source: { column }, direction: 'asc' as const }))].map((o) => {
    const value = comparable(dialect, o.source);
    // SQLite puts nulls first ascending, PostgreSQL last: say it explicitly on both.
    return o.direction === 'desc' ? sql`${value} desc nulls last` : sql`${value} asc nulls first`;
  });
  return sql.join(terms, sql`, `);
}

/** Which database a Kysely instance talks to (repositories built with only the instance need it for JSON). */
export function dialectOf<DB>(db: Kysely<DB>): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Tables whose rows belong to one project and list with the generic field options. */
type ProjectListTable = 'content_key_policies' | 'streaming_endpoints' | 'streaming_locators' | 'streaming_policies' | 'transforms';

/**
 * One page of a project's rows of `table` for a list request (filter, order, top/skip in SQL), and how many match
 * in all: the one query every such list runs.
 */
export async function pageProjectRows<T extends ProjectListTable>(
  db: Kysely<Database>,
  table: T,
  projectId: string,
  query: FieldPageQuery,
): Promise<{ items: Database[T][]; total: number }> {
  const dialect = dialectOf(db);
  // The tables differ only in their row type; Kysely cannot check a query over a union of table names.
  const name: ProjectListTable = table;
  const base = (db as unknown as Kysely<Record<ProjectListTable, { project_id: string }>>)
    .selectFrom(name)
    .where('project_id', '=', projectId)
    .where((eb) => eb.and(query.filter.map((t) => fieldComparison(dialect, t))));
  const [items, count] = await Promise.all([
    base.selectAll().orderBy(fieldOrdering(dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: items as unknown as Database[T][], total: Number(count.n) };
}

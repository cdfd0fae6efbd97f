import { dialectOf, fieldComparison, fieldOrdering, type FieldPageQuery } from './list-query.js';
import type { AccountFilterRow, AssetFilterRow, Db } from './database.js';

/** Whose filters: a project's account filters, or one asset's filters (`assetId` is the asset's row id). */
export type FilterScope = { kind: 'account'; projectId: string } | { kind: 'asset'; projectId: string; assetId: string };

/** A filter's row in either table (`asset_id` only in `asset_filters`). */
export type FilterRow = AccountFilterRow & { asset_id?: string };

const tableOf = (scope: FilterScope) => (scope.kind === 'account' ? 'account_filters' : 'asset_filters');

/** Account filters and asset filters (`account_filters`, `asset_filters`, migration 012): every query of both. */
export class FilterRepository {
  constructor(private readonly db: Db) {}

  /** The scope's rows: both tables have the account table's columns, asset rows are further narrowed to the asset. */
  private from(scope: FilterScope) {
    // The account table's columns are a subset of the asset table's; the asset condition applies only to it.
    const q = this.db.selectFrom(tableOf(scope) as 'asset_filters').where('project_id', '=', scope.projectId);
    return scope.kind === 'asset' ? q.where('asset_id', '=', scope.assetId) : q;
  }

  /** One page of the scope's filters for a list request, and how many match in all. */
  async page(scope: FilterScope, query: FieldPageQuery): Promise<{ items: FilterRow[]; total: number }> {
    const dialect = dialectOf(this.db);
    const base = this.from(scope).where((eb) => eb.and(query.filter.map((t) => fieldComparison(dialect, t))));
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async findByName(scope: FilterScope, name: string): Promise<FilterRow | undefined> {
    return this.from(scope).selectAll().where('name', '=', name).executeTakeFirst();
  }

  /** The scope's filters among `names`. */
  async findByNames(scope: FilterScope, names: readonly string[]): Promise<FilterRow[]> {
    if (names.length === 0) return [];
    return this.from(scope)
      .selectAll()
      .where('name', 'in', [...new Set(names)])
      .execute();
  }

  /** Which of `names` a locator of the asset can use: the asset's own filters and the project's account filters. */
  async existingFor(projectId: string, assetId: string, names: readonly string[]): Promise<Set<string>> {
    const [own, shared] = await Promise.all([
      this.findByNames({ kind: 'asset', projectId, assetId }, names),
      this.findByNames({ kind: 'account', projectId }, names),
    ]);
    return new Set([...own, ...shared].map((r) => r.name));
  }

  async assetExists(scope: { projectId: string; assetId: string }): Promise<boolean> {
    const row = await this.db.selectFrom('assets').select('id').where('project_id', '=', scope.projectId).where('id', '=', scope.assetId).executeTakeFirst();
    return row !== undefined;
  }

  async insert(scope: FilterScope, row: AssetFilterRow | AccountFilterRow): Promise<void> {
    await this.db
      .insertInto(tableOf(scope) as 'asset_filters')
      .values(row as AssetFilterRow)
      .execute();
  }

  async update(scope: FilterScope, id: string, values: Pick<FilterRow, 'properties' | 'revision' | 'updated_at' | 'updated_by'>): Promise<void> {
    await this.db
      .updateTable(tableOf(scope) as 'asset_filters')
      .set(values)
      .where('id', '=', id)
      .execute();
  }

  /** Returns whether a row was deleted. */
  async deleteByName(scope: FilterScope, name: string): Promise<boolean> {
    let q = this.db
      .deleteFrom(tableOf(scope) as 'asset_filters')
      .where('project_id', '=', scope.projectId)
      .where('name', '=', name);
    if (scope.kind === 'asset') q = q.where('asset_id', '=', scope.assetId);
    const result = await q.executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * The project's locators (of one asset when `assetId` is given) that name filters, with the names, their end
   * time and their asset: the candidates a filter delete or a locator check looks through. The text test only
   * narrows the rows read; the names come from the parsed JSON.
   */
  async locatorsNamingFilters(
    projectId: string,
    assetId?: string,
  ): Promise<Array<{ name: string; assetId: string; endTime: string | null; filters: string[] }>> {
    let q = this.db
      .selectFrom('streaming_locators')
      .select(['name', 'asset_id', 'end_time', 'properties'])
      .where('project_id', '=', projectId)
      .where('properties', 'like', '%"filters"%');
    if (assetId) q = q.where('asset_id', '=', assetId);
    const rows = await q.orderBy('name').execute();
    return rows.map((r) => {
      const { filters } = JSON.parse(r.properties) as { filters?: unknown };
      return {
        name: r.name,
        assetId: r.asset_id,
        endTime: r.end_time,
        filters: Array.isArray(filters) ? filters.filter((f): f is string => typeof f === 'string') : [],
      };
    });
  }
}

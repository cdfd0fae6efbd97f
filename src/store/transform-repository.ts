import type { Db, TransformRow } from './database.js';
import { sqlComparison, type PageQuery } from './list-query.js';

/** Transforms (`transforms`): every query of the table. */
export class TransformRepository {
  constructor(private readonly db: Db) {}

  async findByName(projectId: string, name: string): Promise<TransformRow | undefined> {
    return this.db.selectFrom('transforms').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  async list(projectId: string, query: PageQuery<keyof TransformRow & string>): Promise<{ items: TransformRow[]; total: number }> {
    const base = this.db
      .selectFrom('transforms')
      .where('project_id', '=', projectId)
      .where((eb) => eb.and(query.filter.map((t) => sqlComparison(t.column, t))));
    let page = base.selectAll();
    for (const o of query.orderBy) page = page.orderBy(o.column, o.direction);
    page = page.orderBy('created_at', 'asc').orderBy('name', 'asc');
    const [items, count] = await Promise.all([
      page.limit(query.top).offset(query.skip).execute(),
      base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  async insert(row: TransformRow): Promise<void> {
    await this.db.insertInto('transforms').values(row).execute();
  }

  async update(id: string, values: Partial<TransformRow>): Promise<void> {
    await this.db.updateTable('transforms').set(values).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('transforms').where('id', '=', id).execute();
  }
}

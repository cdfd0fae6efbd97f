import type { Db, TransformRow } from './database.js';
import { dialectOf, fieldComparison, fieldOrdering, type FieldPageQuery } from './list-query.js';

/** Transforms (`transforms`): every query of the table. */
export class TransformRepository {
  constructor(private readonly db: Db) {}

  async findByName(projectId: string, name: string): Promise<TransformRow | undefined> {
    return this.db.selectFrom('transforms').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  async list(projectId: string, query: FieldPageQuery): Promise<{ items: TransformRow[]; total: number }> {
    const dialect = dialectOf(this.db);
    const base = this.db
      .selectFrom('transforms')
      .where('project_id', '=', projectId)
      .where((eb) => eb.and(query.filter.map((t) => fieldComparison(dialect, t))));
    const [items, count] = await Promise.all([
      base.selectAll().orderBy(fieldOrdering(dialect, query.orderBy)).limit(query.top).offset(query.skip).execute(),
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

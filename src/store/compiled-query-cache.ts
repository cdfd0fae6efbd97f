import type { CompiledQuery, Compilable, Kysely } from 'kysely';

/**
 * Builds a query once and reruns its compiled SQL with new parameters. Kysely rebuilds and recompiles a query
 * on every call; on the hottest paths (token check, asset by name) that costs more than the query itself.
 * `build` must put the parameters in the SQL in the order `run` passes them.
 */
export class CompiledQueryCache<P extends unknown[], R> {
  private compiled?: CompiledQuery<R>;

  constructor(
    private readonly db: Kysely<any>,
    private readonly build: (...params: P) => Compilable<R>,
  ) {}

  async run(...params: P): Promise<R[]> {
    const compiled = (this.compiled ??= this.build(...params).compile());
    const result = await this.db.executeQuery<R>({ ...compiled, parameters: params });
    return result.rows;
  }
}

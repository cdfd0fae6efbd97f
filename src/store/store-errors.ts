import type { DatabaseConnection, Dialect, Driver } from 'kysely';
import { BadRequestError, ConflictError } from '../shared/errors.js';

/**
 * A write hit a unique key: another request created the same row first. Services catch it to answer as if they
 * had come second (re-read the winner); one that does not still answers 409, never a 500.
 * `constraint` is what the database names (PostgreSQL's constraint, SQLite's `table.column, …` list).
 */
export class UniqueViolationError extends ConflictError {
  constructor(
    readonly constraint: string,
    options: { cause: unknown },
  ) {
    super('Conflict', 'The resource was created concurrently by another request', options);
  }
}

/** Text PostgreSQL cannot store (a NUL character): a client error on both databases, not a 500. */
export class UnstorableTextError extends BadRequestError {
  constructor(options: { cause: unknown }) {
    super('InvalidCharacter', 'The request holds text with a NUL character, which cannot be stored', options);
  }
}

/** pg and better-sqlite3 errors → the typed errors above; anything else passes unchanged. */
export function toStoreError(err: unknown): unknown {
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return err;
  // PostgreSQL SQLSTATE 23505 unique_violation; 22021 character_not_in_repertoire (a NUL in text).
  if (e.code === '23505') return new UniqueViolationError(typeof e.constraint === 'string' ? e.constraint : 'unique', { cause: err });
  if (e.code === '22021') return new UnstorableTextError({ cause: err });
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = typeof e.message === 'string' ? e.message.replace(/^UNIQUE constraint failed: /, '') : 'unique';
    return new UniqueViolationError(columns, { cause: err });
  }
  return err;
}

function mappingConnection(connection: DatabaseConnection): DatabaseConnection {
  // A Proxy, not a wrapper object: drivers hand the same connection back to themselves (release, transactions)
  // and may read private symbols from it.
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'executeQuery') {
        return async (...args: Parameters<DatabaseConnection['executeQuery']>) => {
          try {
            return await target.executeQuery(...args);
          } catch (err) {
            throw toStoreError(err);
          }
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The store boundary: every query's driver error is converted before any service sees it. */
export function withStoreErrors(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: (): Driver => {
      const driver = dialect.createDriver();
      return new Proxy(driver, {
        get(target, property) {
          if (property === 'acquireConnection') return async () => mappingConnection(await target.acquireConnection());
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

import type { Db, TransformRow } from '../../../store/database.js';
import { TransformRepository } from '../../../store/transform-repository.js';
import { BadRequestError, notFound } from '../../../shared/errors.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { newId } from '../../../shared/ids.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';
import { normalizeOutputs, type TransformOutput } from './schema.js';

/** What the control plane needs of the encoding engine: its verdict on a preset (empty = supported). */
export interface PresetValidator {
  validatePreset(preset: Record<string, unknown>): string[];
}

export interface TransformInput {
  description?: string | null;
  outputs: TransformOutput[];
}

interface Actor {
  email: string;
}

/** `$filter`/`$orderby` field → column (MK.IO's documented transform fields). */
/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for transforms. */
export const transformListFields = new ListFields({ ...auditFields, ...propertiesTimes });

/** Transforms: named encoding recipes. MK.IO supports exactly one output per transform (§9). */
export class TransformService {
  private readonly repository: TransformRepository;

  constructor(
    db: Db,
    private readonly presets: PresetValidator,
  ) {
    this.repository = new TransformRepository(db);
  }

  async find(projectId: string, name: string): Promise<TransformRow | undefined> {
    return this.repository.findByName(projectId, name);
  }

  async get(projectId: string, name: string): Promise<TransformRow> {
    const row = await this.find(projectId, name);
    if (!row) throw notFound(`Transform '${name}'`);
    return row;
  }

  async list(projectId: string, query: FieldPageQuery): Promise<{ items: TransformRow[]; total: number }> {
    return this.repository.list(projectId, query);
  }

  /** Checks the outputs: exactly one, and a preset the engine supports; every problem is named in the 400. */
  private validate(input: TransformInput): void {
    if (input.outputs.length !== 1) {
      throw new BadRequestError(
        'ValidationError',
        `properties.outputs must hold exactly one output (MK.IO supports one output per transform), got ${input.outputs.length}`,
      );
    }
    const problems = this.presets.validatePreset(input.outputs[0].preset as Record<string, unknown>).map((p) => `properties.outputs[0].preset: ${p}`);
    if (problems.length > 0) {
      throw new BadRequestError('ValidationError', `Invalid preset: ${problems.join('; ')}`, { extraDetail: { errors: problems } });
    }
  }

  /**
   * PUT: 201 when created, 200 when an existing transform was replaced (its description kept when not sent).
   * Concurrent PUTs of one name: the loser of the insert answers as if it had come second (a 200 replace).
   */
  async put(projectId: string, name: string, input: TransformInput, actor: Actor): Promise<{ row: TransformRow; created: boolean }> {
    this.validate(input);
    const outputs = JSON.stringify(normalizeOutputs(input.outputs));
    const now = new Date().toISOString();
    const replace = async (existing: TransformRow) => {
      const values: Partial<TransformRow> = { outputs, updated_at: now, updated_by: actor.email };
      if (input.description !== undefined) values.description = input.description;
      await this.repository.update(existing.id, values);
      return { row: { ...existing, ...values }, created: false };
    };
    const existing = await this.find(projectId, name);
    if (existing) return replace(existing);
    const row: TransformRow = {
      id: newId(),
      project_id: projectId,
      name,
      description: input.description ?? null,
      outputs,
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insert(row);
    } catch (err) {
      const winner = err instanceof UniqueViolationError ? await this.find(projectId, name) : undefined;
      if (!winner) throw err;
      return replace(winner);
    }
    return { row, created: true };
  }

  /** Removes the record; its jobs go with it (the caller cancels running ones first). */
  async delete(row: TransformRow): Promise<void> {
    await this.repository.delete(row.id);
  }
}

import type { Db, WebhookEventRow, WebhookEventStatus, WebhookRuleRow } from './database.js';
import { newId } from '../shared/ids.js';
import type { WebhookEventType } from '../shared/webhook-events.js';

/** What a change tells the webhooks of its project. */
export interface WebhookEventInput {
  projectId: string;
  type: WebhookEventType;
  /** Path of the resource under the project's media API, e.g. `transforms/t/jobs/j`. */
  resource: string;
  data: Record<string, unknown>;
}

let lastSeq = 0;
/**
 * Orders the events of one resource: microseconds since the epoch, strictly increasing in this process. The
 * events of one resource come from one process at a time (the job's worker, the API call), so this is enough.
 */
function nextSeq(): number {
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  return lastSeq;
}

/**
 * Writes one outbox row per enabled rule of the project that asks for the event type. Called with the database
 * or the transaction that makes the change, so the event exists exactly when the change does.
 */
export async function recordWebhookEvent(db: Db, event: WebhookEventInput): Promise<number> {
  const rules = await db.selectFrom('webhook_rules').select(['id', 'events']).where('project_id', '=', event.projectId).where('enabled', '=', 1).execute();
  const wanting = rules.filter((r) => (JSON.parse(r.events) as string[]).includes(event.type));
  if (wanting.length === 0) return 0;
  const project = await db.selectFrom('projects').select('name').where('id', '=', event.projectId).executeTakeFirst();
  const source = `/api/v1/projects/${project?.name ?? event.projectId}/media/${event.resource}`;
  const now = new Date().toISOString();
  const seq = nextSeq();
  const rows: WebhookEventRow[] = wanting.map((rule) => {
    const id = newId();
    return {
      id,
      rule_id: rule.id,
      type: event.type,
      source,
      seq,
      payload: JSON.stringify({ id, type: event.type, source, time: now, data: event.data }),
      status: 'Pending',
      attempts: 0,
      next_attempt_at: now,
      lease_until: null,
      history: '[]',
      created_at: now,
    };
  });
  await db.insertInto('webhook_events').values(rows).execute();
  return rows.length;
}

/** Runs `work` in a transaction, or in the caller's when `db` already is one (Kysely does not nest them). */
export async function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

export interface AttemptRecord {
  at: string;
  statusCode?: number;
  error?: string;
}

/** Webhook rules and the outbox of their events. */
export class WebhookRepository {
  constructor(private readonly db: Db) {}

  listRules(projectId: string): Promise<WebhookRuleRow[]> {
    return this.db.selectFrom('webhook_rules').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
  }

  findRule(projectId: string, name: string): Promise<WebhookRuleRow | undefined> {
    return this.db.selectFrom('webhook_rules').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
  }

  findRuleById(id: string): Promise<WebhookRuleRow | undefined> {
    return this.db.selectFrom('webhook_rules').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertRule(row: WebhookRuleRow): Promise<void> {
    await this.db.insertInto('webhook_rules').values(row).execute();
  }

  async updateRule(id: string, values: Omit<WebhookRuleRow, 'id' | 'project_id' | 'name' | 'created_at'>): Promise<void> {
    await this.db.updateTable('webhook_rules').set(values).where('id', '=', id).execute();
  }

  /** Deletes the rule and, by cascade, its undelivered events. */
  async deleteRule(projectId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_rules').where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async eventsOf(ruleId: string, page: { skip: number; top: number }): Promise<{ rows: WebhookEventRow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db.selectFrom('webhook_events').selectAll().where('rule_id', '=', ruleId).orderBy('seq').orderBy('id').offset(page.skip).limit(page.top).execute(),
      this.db
        .selectFrom('webhook_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('rule_id', '=', ruleId)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /**
   * Events due for delivery whose earlier events of the same rule and resource are all settled (Sent or Failed),
   * so each receiver sees a resource's events in order. Leased events (in flight elsewhere) are skipped.
   */
  async dueEvents(now: string, limit: number): Promise<WebhookEventRow[]> {
    return this.db
      .selectFrom('webhook_events as e')
      .selectAll('e')
      .where('e.status', 'in', ['Pending', 'Retrying'])
      .where('e.next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('e.lease_until', 'is', null), eb('e.lease_until', '<', now)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_events as p')
              .select('p.id')
              .whereRef('p.rule_id', '=', 'e.rule_id')
              .whereRef('p.source', '=', 'e.source')
              .whereRef('p.seq', '<', 'e.seq')
              .where('p.status', 'in', ['Pending', 'Retrying']),
          ),
        ),
      )
      .orderBy('e.seq')
      .limit(limit)
      .execute();
  }

  /** Takes an event for one delivery attempt; false when another process took it first. */
  async lease(id: string, now: string, until: string): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_events')
      .set({ lease_until: until })
      .where('id', '=', id)
      .where('status', 'in', ['Pending', 'Retrying'])
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async settle(event: WebhookEventRow, outcome: { status: WebhookEventStatus; attempt: AttemptRecord; nextAttemptAt?: string }): Promise<void> {
    const history = [...(JSON.parse(event.history) as AttemptRecord[]), outcome.attempt].slice(-20);
    await this.db
      .updateTable('webhook_events')
      .set({
        status: outcome.status,
        attempts: event.attempts + 1,
        history: JSON.stringify(history),
        lease_until: null,
        ...(outcome.nextAttemptAt ? { next_attempt_at: outcome.nextAttemptAt } : {}),
      })
      .where('id', '=', event.id)
      .execute();
  }
}

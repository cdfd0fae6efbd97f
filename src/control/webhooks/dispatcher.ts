import http from 'node:http';
import https from 'node:https';
import type { Db, WebhookEventRow, WebhookRuleRow } from '../../store/database.js';
import { WebhookRepository } from '../../store/webhook-repository.js';
import type { AddressPolicy } from '../../shared/address-policy.js';
import { guardedAgents } from '../../shared/outbound-agent.js';
import type { SecretBox } from '../../shared/secret-box.js';
import type { Logger } from '../../shared/log.js';
import { signBody, signatureHeader } from './signature.js';
import type { RuleSecrets } from './rule-secrets.js';

export interface WebhookDispatcherOptions {
  db: Db;
  box: SecretBox;
  /** Where deliveries may go: REEL_WEBHOOK_ALLOW_PRIVATE opens this machine and private networks. */
  policy: AddressPolicy;
  log: Logger;
  retryBaseMs: number;
  maxAttempts: number;
  pollMs?: number;
  timeoutMs?: number;
}

/** Longest wait between two attempts, however many failed before. */
const maxRetryDelayMs = 3_600_000;
/** Events handled per poll; the rest wait for the next one. */
const batchSize = 20;

/**
 * Delivers webhook events from the outbox (`webhook_events`): polls for due events, leases each (so several API
 * processes never send one event twice at once), POSTs it signed, and records the attempt. A failure is retried
 * after `retryBaseMs`, doubling per attempt, until `maxAttempts`, then the event is Failed. Events of one
 * resource for one rule go out in order: a later one waits while an earlier one is pending or retrying.
 */
export class WebhookDispatcher {
  private readonly repository: WebhookRepository;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.repository = new WebhookRepository(options.db);
    this.agents = guardedAgents(options.policy);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .then(() => undefined)
        .catch((err: unknown) => this.options.log.warn({ err, component: 'webhooks' }, 'webhook poll failed'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.pollMs ?? 500);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One round: delivers what is due now; returns how many attempts were made. */
  async poll(): Promise<number> {
    const now = new Date();
    const due = await this.repository.dueEvents(now.toISOString(), batchSize);
    let attempts = 0;
    // One event per resource and rule per round keeps their order even when a batch holds several of them.
    const seen = new Set<string>();
    for (const event of due) {
      const key = `${event.rule_id} ${event.source}`;
      if (seen.has(key) || this.stopped) continue;
      seen.add(key);
      const leaseUntil = new Date(Date.now() + 2 * (this.options.timeoutMs ?? 10_000) + 5000).toISOString();
      if (!(await this.repository.lease(event.id, new Date().toISOString(), leaseUntil))) continue;
      const rule = await this.repository.findRuleById(event.rule_id);
      if (!rule) continue; // deleted meanwhile: its events went with it
      await this.attempt(rule, event);
      attempts++;
    }
    return attempts;
  }

  private async attempt(rule: WebhookRuleRow, event: WebhookEventRow): Promise<void> {
    const at = new Date().toISOString();
    const outcome = await this.send(rule, event).then(
      (statusCode) => ({ statusCode, error: statusCode >= 200 && statusCode < 300 ? undefined : `HTTP ${statusCode}` }),
      (err: unknown) => ({ statusCode: undefined, error: describe(err) }),
    );
    const attempt = { at, ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}), ...(outcome.error ? { error: outcome.error } : {}) };
    if (!outcome.error) {
      await this.repository.settle(event, { status: 'Sent', attempt });
      return;
    }
    const attempts = event.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      await this.repository.settle(event, { status: 'Failed', attempt });
      this.options.log.warn(
        { component: 'webhooks', rule: rule.name, event: event.id, type: event.type, attempts, error: outcome.error },
        'webhook event failed for good',
      );
      return;
    }
    const delay = Math.min(this.options.retryBaseMs * 2 ** (attempts - 1), maxRetryDelayMs);
    await this.repository.settle(event, { status: 'Retrying', attempt, nextAttemptAt: new Date(Date.now() + delay).toISOString() });
    this.options.log.info(
      { component: 'webhooks', rule: rule.name, event: event.id, attempts, retryInMs: delay, error: outcome.error },
      'webhook delivery failed; will retry',
    );
  }

  /** POSTs the event; resolves with the HTTP status. Redirects are not followed (a 3xx is a failed attempt). */
  private send(rule: WebhookRuleRow, event: WebhookEventRow): Promise<number> {
    const secrets = this.options.box.open<RuleSecrets>(rule.secrets_sealed);
    const url = new URL(rule.url);
    const query = { ...(JSON.parse(rule.query_params) as Record<string, string>), ...(secrets.authentication.queryParams ?? {}) };
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const body = event.payload;
    const headers: Record<string, string> = {
      ...(JSON.parse(rule.headers) as Record<string, string>),
      ...(secrets.authentication.headers ?? {}),
      'content-type': 'application/json',
      'user-agent': 'Reel-Webhooks',
      'x-reel-event-id': event.id,
      'x-reel-event-type': event.type,
      [signatureHeader]: signBody(secrets.signingSecret, body),
    };
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = client.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      req.once('error', reject);
      req.once('response', (res) => {
        res.resume(); // the answer's body is not read, only drained
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      });
      req.end(body);
    });
  }
}

/** An attempt's error as recorded: the cause without the URL (its query may carry authentication values). */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err.name === 'AddressRefusedError') return `refused: ${err.message}`;
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'no answer in time';
    return code ? `${code}` : err.message.replace(/https?:\/\/\S+/g, '<url>');
  }
  return 'delivery failed';
}

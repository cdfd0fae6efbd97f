import { isIP } from 'node:net';
import type { Db, WebhookRuleRow } from '../../../store/database.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { WebhookRepository } from '../../../store/webhook-repository.js';
import { AddressRefusedError, assertUnambiguousUrl, isPrivateAddress, type AddressPolicy } from '../../../shared/address-policy.js';
import { BadRequestError, notFound } from '../../../shared/errors.js';
import { newId, randomSecret } from '../../../shared/ids.js';
import type { SecretBox } from '../../../shared/secret-box.js';
import type { RuleSecrets } from '../../webhooks/rule-secrets.js';
import type { RuleBody } from './schema.js';

/** Headers Reel sets on every delivery; a rule cannot override them. */
const reservedHeaders = /^(content-type|content-length|host|transfer-encoding|connection|user-agent|x-reel-.*)$/i;

/**
 * Webhook rules of a project. A rule's URL is checked when saved (http/https, nothing parsers read differently,
 * not this machine or a private network unless REEL_WEBHOOK_ALLOW_PRIVATE) and again on every delivery, after DNS.
 */
export class WebhookRuleService {
  private readonly repository: WebhookRepository;

  constructor(
    db: Db,
    private readonly box: SecretBox,
    private readonly policy: AddressPolicy,
  ) {
    this.repository = new WebhookRepository(db);
  }

  list(projectId: string): Promise<WebhookRuleRow[]> {
    return this.repository.listRules(projectId);
  }

  async get(projectId: string, name: string): Promise<WebhookRuleRow> {
    const rule = await this.repository.findRule(projectId, name);
    if (!rule) throw notFound(`Webhook rule '${name}'`);
    return rule;
  }

  /**
   * Creates or replaces a rule. `authentication` and `signingSecret` are never shown again, so a PUT without them
   * keeps the rule's current ones (a GET → PUT round trip loses nothing); `authentication: {}` clears it.
   * Returns the generated signing secret when one was made, to show once.
   */
  async put(projectId: string, name: string, body: RuleBody): Promise<{ rule: WebhookRuleRow; created: boolean; generatedSecret?: string }> {
    const spec = body.spec;
    this.checkUrl(spec.url);
    for (const header of [...Object.keys(spec.headers ?? {}), ...Object.keys(spec.authentication?.headers ?? {})]) {
      if (reservedHeaders.test(header))
        throw new BadRequestError('ValidationError', `spec.headers: '${header}' is set by Reel on every delivery and cannot be given`);
    }
    const existing = await this.repository.findRule(projectId, name);
    const current = existing ? this.box.open<RuleSecrets>(existing.secrets_sealed) : undefined;
    const generatedSecret = spec.signingSecret === undefined && !current ? randomSecret(32) : undefined;
    const secrets: RuleSecrets = {
      authentication: spec.authentication ?? current?.authentication ?? {},
      signingSecret: spec.signingSecret ?? current?.signingSecret ?? (generatedSecret as string),
    };
    const now = new Date().toISOString();
    const values = {
      url: spec.url,
      enabled: spec.enabled ? 1 : 0,
      events: JSON.stringify(spec.events),
      headers: JSON.stringify(spec.headers ?? {}),
      query_params: JSON.stringify(spec.queryParams ?? {}),
      secrets_sealed: this.box.seal(secrets),
      updated_at: now,
    };
    if (existing) {
      await this.repository.updateRule(existing.id, values);
      return { rule: { ...existing, ...values }, created: false };
    }
    const rule: WebhookRuleRow = { id: newId(), project_id: projectId, name, created_at: now, ...values };
    try {
      await this.repository.insertRule(rule);
    } catch (err) {
      // A concurrent PUT of the same name won: answer as the second PUT would have.
      if (err instanceof UniqueViolationError) return this.put(projectId, name, body);
      throw err;
    }
    return { rule, created: true, generatedSecret };
  }

  delete(projectId: string, name: string): Promise<boolean> {
    return this.repository.deleteRule(projectId, name);
  }

  async events(projectId: string, name: string, page: { skip: number; top: number }) {
    const rule = await this.get(projectId, name);
    return this.repository.eventsOf(rule.id, page);
  }

  private checkUrl(raw: string): void {
    let url: URL;
    try {
      url = assertUnambiguousUrl(raw);
    } catch (err) {
      if (err instanceof AddressRefusedError) throw new BadRequestError('InvalidUrl', `spec.url: ${err.message}`);
      throw err;
    }
    if (this.policy.allowPrivate) return;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const local = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host));
    if (local) {
      throw new BadRequestError('InvalidUrl', `spec.url: '${url.host}' is this machine or a private network, where this server does not deliver webhooks`);
    }
  }
}

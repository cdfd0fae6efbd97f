import type { Db, ProjectRow } from '../../../store/database.js';
import { ProjectStatsRepository } from '../../../store/project-stats-repository.js';
import type { AccountService } from '../../auth/account-service.js';
import { isNarrowed, type Principal } from '../../auth/principal.js';
import { notFound } from '../../../shared/errors.js';
import { nameBasedId } from '../../../shared/ids.js';

/** A usage meter as MK.IO's usage report names it; `total` in `unit` over the period. */
export interface MeterUsage {
  id: string;
  unit: string;
  name: string;
  total: number;
}

/**
 * The meters Reel reports. Encoding is measured (the running time of jobs that ended in the period); the others
 * have no meter in Reel yet and report 0 (docs/MKIO-DIFFERENCES.md, "Subscription usage").
 */
const meters = {
  encoding: { name: 'Encoding', unit: 'Minutes' },
  egress: { name: 'Streaming Egress', unit: 'GB' },
  live: { name: 'Live Event', unit: 'Hours' },
} as const;
const meterId = (key: string) => nameBasedId(`meter:${key}`);

/**
 * The legacy account view of projects (MK.IO "subscriptions", §5.6): which projects a caller may see under a
 * customer (organization) id, and a project's usage this month.
 */
export class SubscriptionService {
  private readonly stats: ProjectStatsRepository;

  constructor(
    db: Db,
    private readonly accounts: AccountService,
  ) {
    this.stats = new ProjectStatsRepository(db);
  }

  /**
   * The projects of `customerId` the caller sees: all of its organization's for a member's session or
   * full-access token, only those its permission map names for a restricted or ephemeral token. Another
   * organization's id is a 404, as is an id that names no organization: neither says whether it exists.
   */
  async list(principal: Principal, customerId: string): Promise<ProjectRow[]> {
    if (customerId.toLowerCase() !== principal.organizationId.toLowerCase()) throw notFound(`Customer '${customerId}'`);
    const projects = await this.accounts.projectsOf(principal.organizationId);
    return projects.filter((p) => this.sees(principal, p.id));
  }

  async get(principal: Principal, customerId: string, subscriptionId: string): Promise<ProjectRow> {
    const project = (await this.list(principal, customerId)).find((p) => p.id.toLowerCase() === subscriptionId.toLowerCase());
    if (!project) throw notFound(`Subscription '${subscriptionId}'`);
    return project;
  }

  /** Usage of `project` from the start of the current UTC month until now. */
  async usage(project: ProjectRow, now = new Date()): Promise<{ start: Date; end: Date; meters: MeterUsage[] }> {
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const runs = await this.stats.jobRunsEndedBetween(project.id, start.toISOString(), now.toISOString());
    const encodingMs = runs.reduce((sum, r) => sum + Math.max(0, Date.parse(r.end_time) - Date.parse(r.start_time)), 0);
    const minutes = Math.round((encodingMs / 60_000) * 10_000) / 10_000;
    return {
      start,
      end: now,
      meters: [
        { id: meterId('encoding'), ...meters.encoding, total: minutes },
        { id: meterId('egress'), ...meters.egress, total: 0 },
        { id: meterId('live'), ...meters.live, total: 0 },
      ],
    };
  }

  private sees(principal: Principal, projectId: string): boolean {
    if (!isNarrowed(principal)) return true;
    const byId = principal.permissions?.['core.project'];
    const groups = byId?.[projectId] ?? byId?.['*'];
    return !!groups && Object.values(groups).some((actions) => Array.isArray(actions) && actions.length > 0);
  }
}

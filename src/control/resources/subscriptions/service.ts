import type { ProjectRow } from '../../../store/database.js';
import type { UsageService } from '../usage/service.js';
import { bytesToGigabytes } from '../../../shared/usage-meters.js';
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
 * The meters of the legacy report: the usage reports' records (resources/usage/) summed over the month so far,
 * so both report the same numbers (docs/MKIO-DIFFERENCES.md, "Usage reports"). `Live Event` is always 0.
 */
const meters = {
  encoding: { name: 'Encoding', unit: 'Minutes' },
  encodingSd: { name: 'Encoding SD', unit: 'Minutes' },
  encodingHd: { name: 'Encoding HD', unit: 'Minutes' },
  encodingUhd: { name: 'Encoding UHD', unit: 'Minutes' },
  encodingAudio: { name: 'Encoding Audio', unit: 'Minutes' },
  egress: { name: 'Streaming Egress', unit: 'GB' },
  storage: { name: 'Storage', unit: 'GB' },
  live: { name: 'Live Event', unit: 'Hours' },
} as const;
const meterId = (key: string) => nameBasedId(`meter:${key}`);

/**
 * The legacy account view of projects (MK.IO "subscriptions", §5.6): which projects a caller may see under a
 * customer (organization) id, and a project's usage this month.
 */
export class SubscriptionService {
  constructor(
    private readonly accounts: AccountService,
    private readonly usageReports: UsageService,
  ) {}

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
    const m = await this.usageReports.monthToDate(project, now);
    const byClass = m.encodingMinutes;
    const total = Math.round((byClass.SD + byClass.HD + byClass.UHD + byClass.Audio) * 1e6) / 1e6;
    const meter = (key: keyof typeof meters, value: number): MeterUsage => ({ id: meterId(key), ...meters[key], total: value });
    return {
      start: m.start,
      end: m.end,
      meters: [
        meter('encoding', total),
        meter('encodingSd', byClass.SD),
        meter('encodingHd', byClass.HD),
        meter('encodingUhd', byClass.UHD),
        meter('encodingAudio', byClass.Audio),
        meter('egress', bytesToGigabytes(m.streamedBytes)),
        meter('storage', bytesToGigabytes(m.storedBytes)),
        meter('live', 0),
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

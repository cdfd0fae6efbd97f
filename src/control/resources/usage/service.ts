import type { Db, ProjectRow } from '../../../store/database.js';
import { UsageRepository } from '../../../store/usage-repository.js';
import type { AccountStores } from '../../../storage/account-stores.js';
import type { AccountService } from '../../auth/account-service.js';
import type { Logger } from '../../../shared/log.js';
import { BadRequestError, NotFoundError, notFound } from '../../../shared/errors.js';
import {
  allMeterNames,
  bytesToGigabytes,
  encodingMeters,
  resolutionClasses,
  storageMeter,
  streamingMeter,
  type ResolutionClass,
  type UsageMeter,
} from '../../../shared/usage-meters.js';
import type { Granularity, MeterDataRow, OrganizationUsageResponse, ProjectUsageResponse, UsageQueryBody } from './schema.js';

/** One measured quantity: a meter of a project on a UTC day (and, for streaming, an endpoint). */
export interface UsageRecord {
  day: string;
  project: ProjectRow;
  meter: UsageMeter;
  quantity: number;
  endpointName?: string;
}

/** A project's month so far, in the legacy report's terms. */
export interface MonthToDate {
  start: Date;
  end: Date;
  encodingMinutes: Record<ResolutionClass, number>;
  streamedBytes: number;
  storedBytes: number;
}

const dayMs = 86_400_000;
const dayOf = (d: Date): string => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number): string => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * dayMs));
const firstOfMonth = (now: Date): string => dayOf(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
/** Minutes to a millionth: the sum of many jobs does not show floating-point noise. */
const minutesOf = (seconds: number): number => Math.round((seconds / 60) * 1e6) / 1e6;
/** How many storage listings run at once when measuring a project's stored bytes. */
const listingConcurrency = 4;
/** The longest range each granularity allows (MK.IO: 31 days for `hour`, a year for `day`). */
const maxDays: Partial<Record<Granularity, number>> = { hour: 31, day: 366 };

/** The start of the granularity bucket holding `day`, as MK.IO's `date` (UTC midnight). */
function bucketOf(day: string, granularity: Granularity): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (granularity === 'year') return `${day.slice(0, 4)}-01-01T00:00:00Z`;
  if (granularity === 'month') return `${day.slice(0, 7)}-01T00:00:00Z`;
  if (granularity === 'week') return `${addDays(day, -((d.getUTCDay() + 6) % 7))}T00:00:00Z`;
  // `hour`: Reel meters by day, so a day's usage is in its first hour.
  return `${day}T00:00:00Z`;
}

function parseDay(text: string, field: string): string {
  const t = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(t) || dayOf(new Date(t)) !== text) throw new BadRequestError('ValidationError', `${field} '${text}' is not a date (YYYY-MM-DD)`);
  return text;
}

/**
 * Usage of projects: encoding minutes per resolution class and day (recorded by the worker when a job finishes),
 * streamed bytes per streaming endpoint and day (added up by the origin processes) and stored bytes (the sizes
 * of the blobs under every asset, listed when the report is made), in MK.IO's report shapes.
 */
export class UsageService {
  private readonly repository: UsageRepository;

  constructor(
    db: Db,
    private readonly accounts: AccountService,
    private readonly stores: AccountStores,
    private readonly log: Logger,
  ) {
    this.repository = new UsageRepository(db);
  }

  /** Every record of `projects` on days in [fromDay, toDay); stored bytes (a measurement of now) only when the range holds today. */
  async records(projects: ProjectRow[], fromDay: string, toDay: string, now = new Date()): Promise<UsageRecord[]> {
    const byId = new Map(projects.map((p) => [p.id, p]));
    const ids = [...byId.keys()];
    const out: UsageRecord[] = [];
    for (const e of await this.repository.encoded(ids, fromDay, toDay)) {
      const meter = encodingMeters[e.resolutionClass as ResolutionClass];
      if (meter) out.push({ day: e.day, project: byId.get(e.projectId)!, meter, quantity: minutesOf(e.seconds) });
    }
    for (const s of await this.repository.streamed(ids, fromDay, toDay)) {
      out.push({ day: s.day, project: byId.get(s.projectId)!, meter: streamingMeter, quantity: bytesToGigabytes(s.bytes), endpointName: s.endpointName });
    }
    const today = dayOf(now);
    if (fromDay <= today && today < toDay) {
      for (const project of projects) {
        out.push({ day: today, project, meter: storageMeter, quantity: bytesToGigabytes(await this.storedBytes(project.id)) });
      }
    }
    const order = (r: UsageRecord) => allMeterNames.indexOf(r.meter.meterName);
    return out.sort(
      (a, b) =>
        a.day.localeCompare(b.day) ||
        a.project.name.localeCompare(b.project.name) ||
        order(a) - order(b) ||
        (a.endpointName ?? '').localeCompare(b.endpointName ?? ''),
    );
  }

  /**
   * The bytes of the project's assets: every blob under each asset's container (and sub-path), from storage
   * listings (sizes only, no content read). A container that is gone counts 0; a storage that cannot be listed
   * counts 0 and is logged.
   */
  async storedBytes(projectId: string): Promise<number> {
    const places = await this.repository.assetPlaces(projectId);
    let total = 0;
    let next = 0;
    const worker = async () => {
      while (next < places.length) {
        const place = places[next++];
        try {
          const store = await this.stores.open(place.storageAccountId);
          const listing = await store.list(place.container, place.subPath, { recursive: true });
          for (const blob of listing.blobs) total += blob.size;
        } catch (err) {
          if (err instanceof NotFoundError) continue;
          this.log.warn({ err, projectId, container: place.container }, 'could not list an asset for the stored-bytes meter');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(listingConcurrency, places.length) }, worker));
    return total;
  }

  /** `GET /api/v1/projects/{project}/usage`: the month so far (UTC), one row per day and meter (and endpoint). */
  async projectReport(project: ProjectRow, now = new Date()): Promise<ProjectUsageResponse> {
    const start = firstOfMonth(now);
    const end = addDays(dayOf(now), 1);
    const value = (await this.records([project], start, end, now)).map(toProjectUsageRow);
    return { supplemental: { records: value.length, start, end, project: project.name }, value };
  }

  /** The legacy subscription usage: the same records as the project report, summed over the month so far. */
  async monthToDate(project: ProjectRow, now = new Date()): Promise<MonthToDate> {
    const records = await this.records([project], firstOfMonth(now), addDays(dayOf(now), 1), now);
    const encodingMinutes = Object.fromEntries(resolutionClasses.map((c) => [c, 0])) as Record<ResolutionClass, number>;
    let streamedBytes = 0;
    let storedBytes = 0;
    for (const r of records) {
      const cls = resolutionClasses.find((c) => encodingMeters[c] === r.meter);
      if (cls) encodingMinutes[cls] = minutesOf(encodingMinutes[cls] * 60 + r.quantity * 60);
      else if (r.meter === streamingMeter) streamedBytes += Math.round(r.quantity * 1e9);
      else if (r.meter === storageMeter) storedBytes += Math.round(r.quantity * 1e9);
    }
    return { start: new Date(`${firstOfMonth(now)}T00:00:00Z`), end: now, encodingMinutes, streamedBytes, storedBytes };
  }

  /** `POST /api/v1/organization/reports/usage`: the organization's records in [startDate, endDate), bucketed. */
  async organizationReport(organizationId: string, query: UsageQueryBody, now = new Date()): Promise<OrganizationUsageResponse> {
    const start = parseDay(query.startDate, 'startDate');
    const end = parseDay(query.endDate, 'endDate');
    if (end <= start) throw new BadRequestError('ValidationError', `endDate '${end}' must be after startDate '${start}' (endDate is exclusive)`);
    const granularity = query.granularity ?? 'day';
    const limit = maxDays[granularity];
    const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / dayMs;
    if (limit !== undefined && days > limit)
      throw new BadRequestError('ValidationError', `A '${granularity}' report covers at most ${limit} days; this one covers ${days}`);
    const projectNames = query.projectNames ?? [];
    const paymentMethodIds = query.paymentMethodIds ?? [];
    const meterNames = query.meterNames ?? [];
    if (projectNames.length > 0 && paymentMethodIds.length > 0)
      throw new BadRequestError('ValidationError', 'projectNames and paymentMethodIds cannot be used together');
    for (const name of meterNames) {
      if (!allMeterNames.includes(name)) throw new BadRequestError('ValidationError', `Unknown meter '${name}'; Reel's meters are ${allMeterNames.join(', ')}`);
    }

    let projects = await this.accounts.projectsOf(organizationId);
    if (projectNames.length > 0) {
      const wanted = new Map(projects.map((p) => [p.name, p]));
      projects = projectNames.map((name) => wanted.get(name) ?? this.missing(name));
    }
    const paymentOf = await this.repository.paymentMethods(projects.map((p) => p.id));
    if (paymentMethodIds.length > 0) {
      const wanted = new Set(paymentMethodIds.map((id) => id.toLowerCase()));
      projects = projects.filter((p) => wanted.has((paymentOf.get(p.id) ?? '').toLowerCase()));
    }

    const rows = new Map<string, MeterDataRow>();
    for (const r of await this.records(projects, start, end, now)) {
      if (meterNames.length > 0 && !meterNames.includes(r.meter.meterName)) continue;
      const date = bucketOf(r.day, granularity);
      const key = `${date}\n${r.project.id}\n${r.meter.meterName}\n${r.endpointName ?? ''}`;
      const seen = rows.get(key);
      if (seen) {
        seen.quantity += r.quantity;
        continue;
      }
      rows.set(key, toMeterDataRow(r, date, paymentOf.get(r.project.id)));
    }
    const value = [...rows.values()];
    for (const row of value) if (row.unit === 'minutes') row.quantity = Math.round(row.quantity * 1e6) / 1e6;
    return {
      supplemental: {
        records: value.length,
        filters: { paymentMethodIds, projectNames, meterNames },
        start,
        end,
        format: query.format ?? 'json',
        download: query.download ?? false,
        granularity,
        groupBy: query.groupBy ?? ['meter'],
      },
      value,
    };
  }

  private missing(name: string): never {
    throw notFound(`Project '${name}'`);
  }
}

/** A record as a row of the project report (MK.IO's `ProjectUsageReportMeterData`, with Reel's `date`). */
export function toProjectUsageRow(r: UsageRecord): ProjectUsageResponse['value'][number] {
  return {
    meterName: r.meter.meterName,
    unit: r.meter.unit,
    solution: r.meter.solution,
    family: r.meter.family,
    quantity: r.quantity,
    date: `${r.day}T00:00:00Z`,
    ...(r.endpointName !== undefined ? { streamingEndpoint: r.endpointName } : {}),
  };
}

/** A record as a row of the organization report (MK.IO's `MeterData`) in the bucket starting at `date`. */
export function toMeterDataRow(r: UsageRecord, date: string, paymentMethod: string | undefined): MeterDataRow {
  return {
    date,
    meterName: r.meter.meterName,
    // Reel puts no price on usage.
    cost: '0.00',
    currency: 'USD',
    quantity: r.quantity,
    // Reel records usage as it happens: it is processed the moment it is measured.
    dateProcessed: date,
    entitlement: null,
    entitlementType: null,
    family: r.meter.family,
    meterSku: null,
    ...(paymentMethod ? { paymentMethod } : {}),
    paymentMethodName: null,
    price: 0,
    project: r.project.name,
    solution: r.meter.solution,
    unit: r.meter.unit,
    ...(r.endpointName !== undefined ? { streamingEndpoint: r.endpointName } : {}),
  };
}

/** The report as CSV (`format: csv`): one line per row, MK.IO's field names as the header. */
export function usageCsv(report: OrganizationUsageResponse): string {
  const fields = ['date', 'project', 'meterName', 'unit', 'quantity', 'cost', 'currency', 'solution', 'family', 'streamingEndpoint'] as const;
  const cell = (v: unknown) => {
    const text = v === undefined || v === null ? '' : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [fields.join(','), ...report.value.map((row) => fields.map((f) => cell(row[f])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

import { isIP } from 'node:net';
import type { Db, LiveEventResourceState, LiveEventRow } from '../../../store/database.js';
import { LiveEventRepository, type LiveEventCounts } from '../../../store/live-event-repository.js';
import type { AssetLabelQuery } from '../../../store/asset-repository.js';
import type { FieldPageQuery } from '../../../store/list-query.js';
import { UniqueViolationError } from '../../../store/store-errors.js';
import { BadRequestError, ConflictError, ReelError, notFound } from '../../../shared/errors.js';
import { newId } from '../../../shared/ids.js';
import { reelLocation } from '../../../shared/locations.js';
import type { Logger } from '../../../shared/log.js';
import { auditFields, ListFields, propertiesTimes } from '../list-fields.js';
import { parseIsoDurationSec } from '../../../shared/time.js';
import { ingestHost } from '../../../shared/endpoint-host.js';
import type { LiveEventControl } from './live-event-control.js';
import type { EncodingType, IngestProtocol, LiveEvent, LiveEventGivenProperties, LiveEventPatchBody } from './schema.js';

/** `$filter`/`$orderby` fields of the list, as MK.IO documents them for live events (§2.3). */
export const liveEventListFields = new ListFields({
  ...auditFields,
  ...propertiesTimes,
  'properties/description': { column: 'properties', jsonKey: 'description' },
  'properties/resourceState': { column: 'resource_state' },
  'properties/encoding/encodingType': { column: 'encoding_type' },
});

export type { LiveEvent };

interface Actor {
  email: string;
}

export interface LiveEventServiceDeps {
  db: Db;
  /** The live runtime (or its stand-in until one is wired): brings ingest and recording in line with the store. */
  control: LiveEventControl;
  /** Whether the runtime has a certificate for RTMPS ingest; without one RTMPS events are refused. */
  rtmpsAvailable: boolean;
  /** The configured streaming domain (`REEL_STREAMING_DOMAIN`), under which ingest URLs get per-event host names. */
  ingestDomain?: () => string | undefined;
  log: Logger;
}

/** Pass-through types forward the encoder's stream; only the encoding types (a transcoder) take SRT. */
export const passThroughTypes: ReadonlySet<EncodingType> = new Set(['None', 'PassthroughBasic', 'PassthroughStandard']);
/** The preset each encoding type runs (MK.IO: `Default720p` for Standard, `Default1080p` for Premium1080p). */
const presetOf: Partial<Record<EncodingType, string>> = { Standard: 'Default720p', Premium1080p: 'Default1080p' };
const minKeyFrameSec = 1;
const maxKeyFrameSec = 10;
export const previewPolicyName = 'Predefined_ClearStreamingOnly';

function invalid(field: string, why: string): BadRequestError {
  const problem = `body.properties.${field} ${why}`;
  return new BadRequestError('ValidationError', `Invalid request: ${problem}`, { extraDetail: { errors: [problem] } });
}

/** IP allow lists: IPv4 ranges (MK.IO's prefix length is 0–32); a missing name or prefix length is filled in. */
function checkIpAllow(field: string, control: { ip?: { allow: Array<{ name?: string; address: string; subnetPrefixLength?: number }> } } | undefined) {
  const allow = control?.ip?.allow ?? [];
  allow.forEach((entry, i) => {
    if (isIP(entry.address) !== 4) throw invalid(`${field}.ip.allow.${i}.address`, `must be an IPv4 address such as 203.0.113.0, got '${entry.address}'`);
  });
  return { ip: { allow: allow.map((e, i) => ({ name: e.name ?? `range${i + 1}`, address: e.address, subnetPrefixLength: e.subnetPrefixLength ?? 32 })) } };
}

function checkDuration(field: string, value: string, minSec: number, maxSec: number): void {
  const sec = parseIsoDurationSec(value);
  if (sec === undefined) throw invalid(field, `must be an ISO 8601 duration such as PT2S, got '${value}'`);
  if (sec < minSec || sec > maxSec) throw invalid(field, `must be between ${minSec} and ${maxSec} seconds, got '${value}'`);
}

/**
 * What the schema cannot say about a live event (§15): the encoding type's preset and key frame interval, which
 * protocols the type and this server take, the preview policy. Returns the properties to store: as given, with
 * every default MK.IO fills in (streamOptions, preset, tokens, locator, access control lists).
 */
export function checkLiveEventProperties(
  given: LiveEventGivenProperties,
  options: { rtmpsAvailable: boolean; newToken: () => string; newLocator: () => string },
): Record<string, unknown> {
  const {
    created: _c,
    lastModified: _l,
    provisioningState: _p,
    resourceState: _r,
    encoding: givenEncoding,
    input: givenInput,
    preview: givenPreview,
    ...rest
  } = given;
  if (!givenEncoding) throw invalid('encoding', 'is required, e.g. { "encodingType": \'PassthroughStandard\' }');
  const type = givenEncoding.encodingType;
  const passThrough = passThroughTypes.has(type);
  const encoding: Record<string, unknown> = { ...givenEncoding };
  if (passThrough) {
    if (givenEncoding.presetName) throw invalid('encoding.presetName', `applies to the Standard and Premium1080p encoding types only, not ${type}`);
    delete encoding.presetName;
  } else {
    const preset = presetOf[type]!;
    if (givenEncoding.presetName !== undefined && givenEncoding.presetName !== preset)
      throw invalid('encoding.presetName', `must be ${preset} for encoding type ${type}, got '${givenEncoding.presetName}'`);
    encoding.presetName = preset;
    encoding.keyFrameInterval = givenEncoding.keyFrameInterval ?? 'PT2S';
  }
  if (typeof encoding.keyFrameInterval === 'string') checkDuration('encoding.keyFrameInterval', encoding.keyFrameInterval, minKeyFrameSec, maxKeyFrameSec);

  const protocol: IngestProtocol = givenInput?.streamingProtocol ?? 'RTMP';
  if (protocol === 'SRT' && passThrough)
    throw invalid('input.streamingProtocol', `SRT needs an encoding live event (Standard or Premium1080p); ${type} takes RTMP or RTMPS`);
  if (protocol === 'RTMPS' && !options.rtmpsAvailable)
    throw invalid('input.streamingProtocol', 'RTMPS is not available on this server (no ingest certificate is configured); use RTMP or SRT');
  const { endpoints: _ie, ...inputRest } = givenInput ?? {};
  // Pass-through: the input's key frame interval is the HLS target duration. Encoding types set theirs in
  // `encoding.keyFrameInterval`, which is shown here too: MK.IO's schema requires a duration in this member and
  // its .NET client cannot read an empty one.
  const givenKeyFrames = givenInput?.keyFrameIntervalDuration || undefined;
  if (!passThrough && givenKeyFrames !== undefined && givenKeyFrames !== encoding.keyFrameInterval)
    throw invalid('input.keyFrameIntervalDuration', 'applies to pass-through live events only; use encoding.keyFrameInterval');
  const keyFrameIntervalDuration = passThrough ? (givenKeyFrames ?? 'PT2S') : (encoding.keyFrameInterval as string);
  if (passThrough) checkDuration('input.keyFrameIntervalDuration', keyFrameIntervalDuration, minKeyFrameSec, maxKeyFrameSec);
  const input = {
    ...inputRest,
    streamingProtocol: protocol,
    accessToken: givenInput?.accessToken ?? options.newToken(),
    keyFrameIntervalDuration,
    accessControl: checkIpAllow('input.accessControl', givenInput?.accessControl),
    timedMetadataEndpoints: givenInput?.timedMetadataEndpoints ?? [],
  };

  const { endpoints: _pe, ...previewRest } = givenPreview ?? {};
  const policy = givenPreview?.streamingPolicyName ?? previewPolicyName;
  if (policy !== previewPolicyName) throw invalid('preview.streamingPolicyName', `must be ${previewPolicyName} (the only preview policy), got '${policy}'`);
  const preview = {
    ...previewRest,
    streamingPolicyName: policy,
    previewLocator: (givenPreview?.previewLocator ?? options.newLocator()).toLowerCase(),
    accessControl: checkIpAllow('preview.accessControl', givenPreview?.accessControl),
  };
  if (rest.hostnamePrefix && rest.useStaticHostname !== true) throw invalid('hostnamePrefix', 'applies only with useStaticHostname true');

  return {
    ...rest,
    useStaticHostname: rest.useStaticHostname ?? false,
    streamOptions: rest.streamOptions ?? ['Default'],
    encoding,
    input,
    preview,
  };
}

/** Whether every member given in `given` holds the same value in `stored` (members not given are not compared). */
function sameGiven(given: unknown, stored: unknown): boolean {
  if (given === undefined) return true;
  if (given === null || typeof given !== 'object') return given === stored;
  if (Array.isArray(given)) return Array.isArray(stored) && given.length === stored.length && given.every((g, i) => sameGiven(g, stored[i]));
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
  return Object.entries(given as Record<string, unknown>).every(([k, v]) => sameGiven(v, (stored as Record<string, unknown>)[k]));
}

const hydrate = (row: LiveEventRow): LiveEvent => ({
  row,
  properties: JSON.parse(row.properties) as Record<string, unknown>,
  tags: JSON.parse(row.tags) as Record<string, string>,
});

/** What a webhook receiver is told of a runtime failure: the client-safe detail, never internals. */
const failureText = (err: unknown): string => (err instanceof ReelError && err.expose ? err.detail : 'The live runtime failed');

/** The event states in which the runtime ingests (or is about to): output changes must reach it. */
export const ingestingStates: ReadonlySet<LiveEventResourceState> = new Set(['Starting', 'Running']);

/**
 * Live events (§15). The service writes the desired state to the store and asks the runtime (`LiveEventControl`)
 * to reach it; the answer is sent once it has, so a client that polls sees Running or Stopped at once. Actions on
 * one event run one at a time in this process.
 */
export class LiveEventService {
  readonly repository: LiveEventRepository;
  private readonly control: LiveEventControl;
  private readonly rtmpsAvailable: boolean;
  private readonly ingestDomain: (() => string | undefined) | undefined;
  private readonly log: Logger;
  /** The tail of each event's queue of actions (start, stop, delete, output changes). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(deps: LiveEventServiceDeps) {
    this.repository = new LiveEventRepository(deps.db);
    this.control = deps.control;
    this.rtmpsAvailable = deps.rtmpsAvailable;
    this.ingestDomain = deps.ingestDomain;
    this.log = deps.log;
  }

  async page(projectId: string, query: FieldPageQuery, labels: AssetLabelQuery): Promise<{ items: LiveEvent[]; total: number }> {
    const { items, total } = await this.repository.pageEvents(projectId, query, labels);
    return { items: items.map(hydrate), total };
  }

  async find(projectId: string, name: string): Promise<LiveEvent | undefined> {
    const row = await this.repository.findEventByName(projectId, name);
    return row ? hydrate(row) : undefined;
  }

  async get(projectId: string, name: string): Promise<LiveEvent> {
    const event = await this.find(projectId, name);
    if (!event) throw notFound(`Live event '${name}'`);
    return event;
  }

  counts(projectId: string): Promise<LiveEventCounts> {
    return this.repository.countEvents(projectId);
  }

  /**
   * `input.endpoints` of an event, from the runtime (URLs that reach its listeners); with a streaming domain
   * configured, under the event's own host name (`useStaticHostname`/`hostnamePrefix`, see `ingestHost`).
   */
  ingestEndpoints(event: LiveEvent, projectName: string) {
    const input = event.properties.input as { streamingProtocol: IngestProtocol };
    const domain = this.ingestDomain?.();
    const named = event.properties as { useStaticHostname?: boolean; hostnamePrefix?: string };
    const host =
      domain === undefined
        ? undefined
        : ingestHost(
            { id: event.row.id, name: event.row.name, useStaticHostname: named.useStaticHostname === true, hostnamePrefix: named.hostnamePrefix },
            projectName,
            domain,
          );
    return this.control.ingestEndpoints({ eventId: event.row.id, protocol: input.streamingProtocol, accessToken: event.row.access_token, host });
  }

  /** PUT: creates only; an existing name is a 409 (MK.IO: live events cannot be modified, §15). */
  async create(
    projectId: string,
    name: string,
    body: { location?: string; tags?: Record<string, string>; properties: LiveEventGivenProperties },
    actor: Actor,
  ): Promise<LiveEvent> {
    const exists = () => new ConflictError('Conflict', `Live event '${name}' already exists; live events cannot be modified, delete it first`);
    if (await this.repository.findEventByName(projectId, name)) throw exists();
    const properties = checkLiveEventProperties(body.properties, { rtmpsAvailable: this.rtmpsAvailable, newToken: newId, newLocator: newId });
    const input = properties.input as { accessToken: string };
    const preview = properties.preview as { previewLocator: string };
    if (await this.repository.isAccessTokenTaken(input.accessToken))
      throw new ConflictError('AccessTokenInUse', 'properties.input.accessToken is already used by another live event; choose another or omit it');
    if (await this.repository.isPreviewLocatorTaken(preview.previewLocator))
      throw new ConflictError('PreviewLocatorInUse', 'properties.preview.previewLocator is already used by another live event or streaming locator');
    const now = new Date().toISOString();
    const row: LiveEventRow = {
      id: newId(),
      project_id: projectId,
      name,
      location: body.location || reelLocation.name,
      tags: JSON.stringify(body.tags ?? {}),
      properties: JSON.stringify(properties),
      encoding_type: (properties.encoding as { encodingType: EncodingType }).encodingType,
      resource_state: 'Stopped',
      access_token: input.accessToken,
      preview_locator: preview.previewLocator,
      created_at: now,
      created_by: actor.email,
      updated_at: now,
      updated_by: actor.email,
    };
    try {
      await this.repository.insertEvent(row);
    } catch (err) {
      // Created meanwhile by a concurrent PUT (or the token/locator taken meanwhile): answer as the second PUT.
      if (err instanceof UniqueViolationError) {
        if (await this.repository.findEventByName(projectId, name)) throw exists();
        throw new ConflictError('Conflict', 'properties.input.accessToken or properties.preview.previewLocator is already used by another live event');
      }
      throw err;
    }
    return hydrate(row);
  }

  /**
   * PATCH: MK.IO changes only `properties.pipeline`. A read-modify-write body (what a client got, sent back) is
   * accepted; a member that differs from the stored value is refused, as all of them are fixed at creation.
   */
  async patch(projectId: string, name: string, body: LiveEventPatchBody, actor: Actor): Promise<LiveEvent> {
    const event = await this.get(projectId, name);
    const { created: _c, lastModified: _l, provisioningState: _p, resourceState: _r, pipeline, ...given } = body.properties ?? {};
    const strip = (v: unknown) => {
      if (!v || typeof v !== 'object') return v;
      const { endpoints: _e, ...kept } = v as Record<string, unknown>;
      return kept;
    };
    for (const [key, value] of Object.entries(given)) {
      const comparable = key === 'input' || key === 'preview' ? strip(value) : value;
      if (!sameGiven(comparable, event.properties[key])) throw invalid(key, 'cannot be changed after creation (only properties.pipeline can)');
    }
    const sameTags = body.tags === undefined || (sameGiven(body.tags, event.tags) && Object.keys(body.tags).length === Object.keys(event.tags).length);
    if (!sameTags) throw new BadRequestError('ValidationError', 'Invalid request: body.tags cannot be changed after creation');
    if (pipeline === undefined) return event;
    await this.repository.updateEventProperties(event.row.id, JSON.stringify({ ...event.properties, pipeline }), new Date().toISOString(), actor.email);
    return this.get(projectId, name);
  }

  /** Runs `work` after every earlier action on the same event has finished (so start, stop and delete never interleave). */
  serialize<T>(eventId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(eventId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(eventId, tail);
    void tail.then(() => {
      if (this.queues.get(eventId) === tail) this.queues.delete(eventId);
    });
    return next;
  }

  /** Asks the runtime to bring the event in line with the store (outputs added or removed while it runs). */
  reconcile(eventId: string): Promise<void> {
    return this.control.reconcile(eventId);
  }

  /** Ingest health while the event runs in this process (bitrate, frame rate, last frame), else undefined. */
  health(eventId: string): ReturnType<LiveEventControl['health']> {
    return this.control.health(eventId);
  }

  /** Starting → the runtime opens ingest → Running. A failure leaves the event Stopped and is answered. */
  async start(projectId: string, name: string, actor: Actor): Promise<void> {
    const { row } = await this.get(projectId, name);
    await this.serialize(row.id, async () => {
      const current = await this.repository.findEventById(row.id);
      if (!current) throw notFound(`Live event '${name}'`);
      if (current.resource_state === 'Running') return;
      if (current.resource_state === 'Deleting') throw new ConflictError('LiveEventBusy', `Live event '${name}' is being deleted`);
      await this.repository.setEventState(row.id, 'Starting', new Date().toISOString(), actor.email);
      try {
        await this.control.reconcile(row.id);
      } catch (err) {
        this.log.warn({ err, liveEvent: row.id }, 'live event did not start');
        await this.repository.setEventState(row.id, 'Stopped', new Date().toISOString(), actor.email, failureText(err));
        await this.control.reconcile(row.id).catch((e: unknown) => this.log.warn({ err: e, liveEvent: row.id }, 'cleanup after a failed start failed'));
        throw err;
      }
      await this.repository.setEventState(row.id, 'Running', new Date().toISOString(), actor.email);
    });
  }

  /**
   * Stopping → the runtime drops the encoder and finishes every output's archive → Stopped. With
   * `removeOutputsOnStop` the outputs are deleted afterwards (their assets stay).
   */
  async stop(projectId: string, name: string, options: { removeOutputsOnStop: boolean }, actor: Actor): Promise<void> {
    const { row } = await this.get(projectId, name);
    await this.serialize(row.id, () => this.stopNow(row.id, name, options, actor));
  }

  private async stopNow(eventId: string, name: string, options: { removeOutputsOnStop: boolean }, actor: Actor): Promise<void> {
    const current = await this.repository.findEventById(eventId);
    if (!current) throw notFound(`Live event '${name}'`);
    if (current.resource_state !== 'Stopped') {
      await this.repository.setEventState(eventId, 'Stopping', new Date().toISOString(), actor.email);
      try {
        await this.control.reconcile(eventId);
      } catch (err) {
        this.log.warn({ err, liveEvent: eventId }, 'live event did not stop');
        await this.repository.setEventState(eventId, current.resource_state, new Date().toISOString(), actor.email, failureText(err));
        throw err;
      }
      await this.repository.setEventState(eventId, 'Stopped', new Date().toISOString(), actor.email);
    }
    if (options.removeOutputsOnStop) await this.repository.deleteOutputsOfEvent(eventId);
  }

  /** 200 when deleted, 204 when there was nothing. A running event is stopped first (its archives finished). */
  async delete(projectId: string, name: string, actor: Actor): Promise<boolean> {
    const row = await this.repository.findEventByName(projectId, name);
    if (!row) return false;
    return this.serialize(row.id, async () => {
      const current = await this.repository.findEventById(row.id);
      if (!current) return false;
      if (current.resource_state !== 'Stopped') await this.stopNow(row.id, name, { removeOutputsOnStop: false }, actor);
      await this.repository.setEventState(row.id, 'Deleting', new Date().toISOString(), actor.email);
      return this.repository.deleteEvent(row.id);
    });
  }
}

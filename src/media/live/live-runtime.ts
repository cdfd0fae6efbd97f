import { randomUUID } from 'node:crypto';
import type { Logger } from '../../shared/log.js';
import { isAllowedAddress } from '../../shared/ip-allow.js';
import { NotFoundError } from '../../shared/errors.js';
import type { LivePlayback, LiveSource } from '../origin/live-source.js';
import type { IngestAdmission, IngestAuthorizer, IngestListener, IngestRequest, IngestSink } from './ingest/ingest-contracts.js';
import { defaultPreviewWindowSec, type IpAllowRule, type LiveEventPlan, type LiveEventStore, type LiveOutputPlan } from './live-event-plan.js';

/** Whether an encoder at `remoteAddress` passes the event's IP allow list (empty: every address). */
export function ipAllowed(remoteAddress: string, allow: readonly IpAllowRule[]): boolean {
  return allow.length === 0 || isAllowedAddress(remoteAddress, allow);
}

/** What the runtime needs of an event's media pipeline (`pipeline/live-event-pipeline.ts` implements it). */
export interface EventPipeline {
  /** The run it writes (a new one, or the adopted one after a restart). */
  readonly runId: string;
  /** A sink for one encoder connection; a later connection continues the same timeline. */
  attach(kick?: () => void): IngestSink;
  /** The presentation of the recording from `fromMs` (wall clock), the last `windowSec` of it. */
  presentation(window: { fromMs: number; windowSec: number; live: boolean }): LivePlayback;
  /** Starts recording for an output from `fromMs` (wall clock); returns the start to use (an adopted run's own). */
  startOutput(plan: LiveOutputPlan, fromMs: number): number;
  /** Writes the output's archive (its window of the recording) into its asset. */
  finishOutput(outputId: string, target: Awaited<ReturnType<LiveEventStore['archiveTarget']>>): Promise<void>;
  health(): { bitrateBps: number; frameRate: number; lastFrameMs?: number; lastError?: string };
  /** Ingest is over for good: close the open segment, mark the timeline ended. */
  end(): Promise<void>;
  close(): Promise<void>;
  removeSpool(): Promise<void>;
}

/**
 * A pipeline for a new run `runId`; with `adopt` (the event was running when the process stopped), the pipeline of
 * the run its spool holds, when there is one, so that the run continues across the restart.
 */
export type EventPipelineFactory = (plan: LiveEventPlan, runId: string, adopt?: boolean) => EventPipeline | Promise<EventPipeline>;

/**
 * Opens an SRT event on the shared SRT port (its passphrase routes callers to it, see `srt-ingest-server.ts`) until
 * the listener is closed; the shared listener admits callers through this runtime.
 */
export type SrtListenerFactory = (plan: LiveEventPlan) => Promise<IngestListener>;

export interface LiveRuntimeOptions {
  store: LiveEventStore;
  createPipeline: EventPipelineFactory;
  createSrtListener?: SrtListenerFactory;
  log: Logger;
  /** Host name put in ingest URLs. */
  ingestHost: () => string;
  rtmpPort: () => number | undefined;
  rtmpsPort: () => number | undefined;
  /** The UDP port every SRT event shares. */
  srtPort: () => number;
  /** Window of the preview locator, seconds. */
  previewWindowSec?: number;
  now?: () => number;
}

interface Connection {
  kick: () => void;
}

interface RunningEvent {
  plan: LiveEventPlan;
  pipeline: EventPipeline;
  /** Outputs recording now, by id, with the wall-clock time their recording began. */
  outputs: Map<string, { plan: LiveOutputPlan; fromMs: number }>;
  connection?: Connection;
  srt?: IngestListener;
}

/**
 * The live runtime: one per server process with the API role. It turns the store's desired state into running
 * pipelines (`reconcile`), admits encoders (`IngestAuthorizer`: a Running event, its access token, its IP rules,
 * one encoder at a time) and answers the origin (`LiveSource`) for assets being recorded and preview locators.
 * Reconciles of one event are serialized; events never share a pipeline, so one event's failure stays its own.
 */
export class LiveRuntime implements IngestAuthorizer, LiveSource {
  readonly #events = new Map<string, RunningEvent>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(private readonly options: LiveRuntimeOptions) {
    this.#log = options.log.child({ component: 'live' });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Resumes what the store says is live (after a restart): a running event continues the run its spool holds,
   * and its encoders reconnect; Stopping events finish.
   */
  async resume(): Promise<void> {
    for (const eventId of await this.options.store.listActive())
      await this.#enqueue(eventId, true).catch((err: unknown) => this.#log.error({ err, eventId }, 'live event not resumed'));
  }

  reconcile(eventId: string): Promise<void> {
    return this.#enqueue(eventId, false);
  }

  /** `adopt`: at boot only, so an event started again later never picks up a run an earlier start left behind. */
  #enqueue(eventId: string, adopt: boolean): Promise<void> {
    const previous = this.#queues.get(eventId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#reconcile(eventId, adopt));
    const settled = next.finally(() => {
      if (this.#queues.get(eventId) === settled) this.#queues.delete(eventId);
    });
    this.#queues.set(eventId, settled);
    return next;
  }

  async #reconcile(eventId: string, adopt: boolean): Promise<void> {
    const plan = await this.options.store.load(eventId);
    const running = this.#events.get(eventId);
    const wantsRunning = plan !== undefined && (plan.state === 'Starting' || plan.state === 'Running');
    if (!wantsRunning) {
      if (running) await this.#stop(running);
      else if (adopt && plan?.state === 'Stopping') await this.#finishAdopted(plan);
      return;
    }
    const event = running ?? (await this.#start(plan, adopt));
    event.plan = plan;
    const wanted = new Map(plan.outputs.map((o) => [o.outputId, o]));
    for (const [outputId, output] of event.outputs) {
      if (wanted.has(outputId)) continue;
      event.outputs.delete(outputId);
      await this.#finishOutput(event, output.plan);
    }
    for (const output of plan.outputs) {
      if (event.outputs.has(output.outputId)) continue;
      const fromMs = event.pipeline.startOutput(output, Math.max(output.createdMs, this.#now()));
      event.outputs.set(output.outputId, { plan: output, fromMs });
      this.#log.info({ eventId, outputId: output.outputId, assetId: output.assetId }, 'live output recording');
    }
  }

  async #start(plan: LiveEventPlan, adopt: boolean): Promise<RunningEvent> {
    const newRunId = randomUUID();
    const pipeline = await this.options.createPipeline(plan, newRunId, adopt);
    const runId = pipeline.runId;
    const event: RunningEvent = { plan, pipeline, outputs: new Map() };
    this.#events.set(plan.eventId, event);
    if (plan.protocol === 'SRT') {
      if (!this.options.createSrtListener) throw new Error('SRT ingest is not available in this process');
      try {
        event.srt = await this.options.createSrtListener(plan);
      } catch (err) {
        this.#events.delete(plan.eventId);
        await event.pipeline.close();
        // An adopted run's spool stays for the next attempt (the store still says Running).
        if (runId === newRunId) await event.pipeline.removeSpool();
        throw err;
      }
    }
    this.#log.info(
      { eventId: plan.eventId, runId, adopted: runId !== newRunId, encodingType: plan.encodingType, protocol: plan.protocol },
      'live event running',
    );
    return event;
  }

  /**
   * The process stopped while the event was Stopping: the run its spool holds is adopted and stopped again, so its
   * outputs' archives are written (the store keeps Stopping until the next stop request sets Stopped).
   */
  async #finishAdopted(plan: LiveEventPlan): Promise<void> {
    const newRunId = randomUUID();
    const pipeline = await this.options.createPipeline(plan, newRunId, true);
    const event: RunningEvent = { plan, pipeline, outputs: new Map() };
    if (pipeline.runId !== newRunId) {
      for (const output of plan.outputs) event.outputs.set(output.outputId, { plan: output, fromMs: pipeline.startOutput(output, output.createdMs) });
      this.#log.info({ eventId: plan.eventId, runId: pipeline.runId }, 'live event was stopping: its archives are written now');
    }
    await this.#stop(event);
  }

  async #stop(event: RunningEvent): Promise<void> {
    const eventId = event.plan.eventId;
    event.connection?.kick();
    await event.srt?.close();
    await event.pipeline.end();
    for (const output of event.outputs.values()) await this.#finishOutput(event, output.plan);
    event.outputs.clear();
    this.#events.delete(eventId);
    await event.pipeline.close();
    await event.pipeline.removeSpool();
    this.#log.info({ eventId }, 'live event stopped');
  }

  async #finishOutput(event: RunningEvent, output: LiveOutputPlan): Promise<void> {
    try {
      const target = await this.options.store.archiveTarget(output.assetId);
      await event.pipeline.finishOutput(output.outputId, target);
      this.#log.info({ eventId: event.plan.eventId, outputId: output.outputId, assetId: output.assetId }, 'live archive written');
    } catch (err) {
      // The spool stays until the event stops; an archive that could not be written is reported, not retried.
      this.#log.error({ err, eventId: event.plan.eventId, outputId: output.outputId }, 'live archive not written');
    }
  }

  /** Admission at connect/publish time: which event the token names, and whether it may publish now. */
  async admit(request: IngestRequest, kick: () => void): Promise<IngestAdmission | { refused: 'unknown-token' | 'event-not-running' | 'ip-denied' | 'busy' }> {
    const event = this.#eventFor(request);
    if (!event) return { refused: 'unknown-token' };
    const plan = event.plan;
    if (plan.protocol !== request.protocol && !(plan.protocol === 'RTMP' && request.protocol === 'RTMPS')) return { refused: 'unknown-token' };
    if (!ipAllowed(request.remoteAddress, plan.ipAllow)) return { refused: 'ip-denied' };
    if (event.connection) return { refused: 'busy' };
    const connection: Connection = { kick };
    event.connection = connection;
    const inner = event.pipeline.attach(kick);
    const log = this.#log;
    const sink: IngestSink = {
      onTag: (tag) => inner.onTag(tag),
      onEnd: (reason) => {
        if (event.connection === connection) event.connection = undefined;
        log.info({ eventId: plan.eventId, reason }, 'live encoder disconnected');
        inner.onEnd(reason);
      },
    };
    log.info({ eventId: plan.eventId, protocol: request.protocol, remoteAddress: request.remoteAddress }, 'live encoder connected');
    return { sink, eventId: plan.eventId };
  }

  /** RTMP names the event by its access token, as the app (`rtmp://host/{token}/key`) or the key (`…/live/{token}`). */
  #eventFor(request: IngestRequest): RunningEvent | undefined {
    if (request.protocol === 'SRT') return this.#events.get(request.app);
    for (const event of this.#events.values()) {
      const token = event.plan.accessToken;
      if (request.streamKey === token || request.app.split('/').includes(token)) return event;
    }
    return undefined;
  }

  forAsset(assetId: string): LivePlayback | undefined {
    for (const event of this.#events.values()) {
      for (const output of event.outputs.values()) {
        if (output.plan.assetId === assetId) return this.#playback(event, output.fromMs, output.plan.archiveWindowSec);
      }
    }
    return undefined;
  }

  forPreviewLocator(locatorId: string): LivePlayback | undefined {
    const id = locatorId.toLowerCase();
    for (const event of this.#events.values()) {
      if (event.plan.previewLocatorId.toLowerCase() === id) return this.#playback(event, 0, this.options.previewWindowSec ?? defaultPreviewWindowSec);
    }
    return undefined;
  }

  /** The recording so far, or undefined before its first segment (players then get the asset's 404 until it starts). */
  #playback(event: RunningEvent, fromMs: number, windowSec: number): LivePlayback | undefined {
    try {
      return event.pipeline.presentation({ fromMs, windowSec, live: true });
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  health(eventId: string): { isConnected: boolean; bitrateBps: number; frameRate: number; lastFrameMs?: number; lastError?: string } | undefined {
    const event = this.#events.get(eventId);
    if (!event) return undefined;
    return { isConnected: event.connection !== undefined, ...event.pipeline.health() };
  }

  ingestEndpoints(event: {
    eventId: string;
    protocol: 'RTMP' | 'RTMPS' | 'SRT';
    accessToken: string;
    host?: string;
  }): Array<{ protocol: string; url: string }> {
    const host = event.host ?? this.options.ingestHost();
    if (event.protocol === 'SRT') {
      // One port for every event, as on MK.IO: the passphrase (the access token) tells the event.
      return [{ protocol: 'SRT', url: `srt://${host}:${this.options.srtPort()}?passphrase=${event.accessToken}&pbkeylen=16` }];
    }
    const urls: Array<{ protocol: string; url: string }> = [];
    const rtmp = this.options.rtmpPort();
    const rtmps = this.options.rtmpsPort();
    if (rtmp !== undefined && event.protocol === 'RTMP') urls.push({ protocol: 'RTMP', url: `rtmp://${host}:${rtmp}/${event.accessToken}` });
    if (rtmps !== undefined) urls.push({ protocol: 'RTMPS', url: `rtmps://${host}:${rtmps}/${event.accessToken}` });
    return urls;
  }

  /** Stops every pipeline without touching the store (process shutdown): a restart resumes them. */
  async close(): Promise<void> {
    for (const event of this.#events.values()) {
      event.connection?.kick();
      await event.srt?.close();
      await event.pipeline.close();
    }
    this.#events.clear();
  }
}

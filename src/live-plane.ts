import fs from 'node:fs';
import type { Config } from './config/schema.js';
import type { Db, DialectName } from './store/database.js';
import type { Logger } from './shared/log.js';
import type { AccountStores } from './storage/account-stores.js';
import { AssetRepository } from './store/asset-repository.js';
import { LiveEventRepository } from './store/live-event-repository.js';
import { NotFoundError } from './shared/errors.js';
import { parseIsoDurationSec } from './shared/time.js';
import { LiveRuntime, type EventPipeline } from './media/live/live-runtime.js';
import { LiveEventPipeline } from './media/live/pipeline/live-event-pipeline.js';
import { TranscodeLadder } from './media/live/pipeline/transcode-ladder.js';
import type { ArchiveTarget, LiveEncodingType, LiveEventPlan, LiveEventStore } from './media/live/live-event-plan.js';
import type { IngestListener } from './media/live/ingest/ingest-contracts.js';
import { createRtmpListener } from './media/live/ingest/rtmp/rtmp-server.js';
import { createSrtIngestServer, type SrtIngestServer } from './media/live/ingest/srt/srt-ingest-server.js';

interface StoredEventProperties {
  encoding?: { encodingType?: LiveEncodingType; presetName?: string; keyFrameInterval?: string };
  input?: {
    streamingProtocol?: 'RTMP' | 'RTMPS' | 'SRT';
    keyFrameIntervalDuration?: string;
    accessControl?: { ip?: { allow?: Array<{ address: string; subnetPrefixLength?: number }> } };
  };
  streamOptions?: string[];
}

/** The live runtime's view of the live tables (`LiveEventStore`), and the asset storage its archives go to. */
export class StoreLiveEvents implements LiveEventStore {
  readonly #events: LiveEventRepository;
  readonly #assets: AssetRepository;

  constructor(
    db: Db,
    dialect: DialectName,
    private readonly stores: AccountStores,
  ) {
    this.#events = new LiveEventRepository(db);
    this.#assets = new AssetRepository(db, dialect);
  }

  async load(eventId: string): Promise<LiveEventPlan | undefined> {
    const row = await this.#events.findEventById(eventId);
    if (!row) return undefined;
    const p = JSON.parse(row.properties) as StoredEventProperties;
    const encodingType = p.encoding?.encodingType ?? 'PassthroughBasic';
    const keyFrames = p.encoding?.keyFrameInterval ?? p.input?.keyFrameIntervalDuration ?? 'PT2S';
    const outputs = await this.#events.listOutputs(eventId);
    return {
      eventId: row.id,
      projectId: row.project_id,
      name: row.name,
      state: row.resource_state,
      protocol: p.input?.streamingProtocol ?? 'RTMP',
      accessToken: row.access_token,
      ipAllow: p.input?.accessControl?.ip?.allow ?? [],
      encodingType,
      ...(p.encoding?.presetName ? { presetName: p.encoding.presetName } : {}),
      keyFrameIntervalSec: parseIsoDurationSec(keyFrames) ?? 2,
      lowLatency: (p.streamOptions ?? []).includes('LowLatency'),
      previewLocatorId: row.preview_locator,
      outputs: outputs.map((o) => {
        const props = JSON.parse(o.properties) as { archiveWindowLength?: string };
        return {
          outputId: o.id,
          name: o.name,
          assetId: o.asset_id,
          manifestName: o.manifest_name,
          archiveWindowSec: parseIsoDurationSec(props.archiveWindowLength ?? 'PT1H') ?? 3600,
          createdMs: Date.parse(o.created_at),
        };
      }),
    };
  }

  listActive(): Promise<string[]> {
    return this.#events.listActiveEventIds();
  }

  async archiveTarget(assetId: string): Promise<ArchiveTarget> {
    const asset = await this.#assets.findById(assetId);
    if (!asset) throw new NotFoundError('AssetNotFound', 'the live output’s asset no longer exists');
    const store = await this.stores.open(asset.storage_account_id);
    return { store, container: asset.container, prefix: asset.sub_path ?? '' };
  }
}

/** LowLatency events: the longest segment target and the LL-HLS part target, seconds. */
const lowLatencySegmentSec = 1;
const lowLatencyPartSec = 1 / 3;

/**
 * An event's pipeline: pass-through events write the encoder's stream as it comes; Standard and Premium1080p
 * events put one ffmpeg ladder (per encoder connection) in front of it.
 */
async function createEventPipeline(config: Readonly<Config>, log: Logger, plan: LiveEventPlan, runId: string, adopt: boolean): Promise<EventPipeline> {
  // LowLatency: 1 s segments at most (cut on the encoder's keyframes, so 1 s GOPs give 1 s segments), written in
  // parts of a third of a second that LL-HLS lists before the segment closes (PART-HOLD-BACK and the DASH latency
  // target are three of them: 1 s); the transcoder then forces 1 s GOPs.
  const segmentSec = plan.lowLatency ? Math.min(plan.keyFrameIntervalSec, lowLatencySegmentSec) : plan.keyFrameIntervalSec;
  const options = {
    eventId: plan.eventId,
    spoolDir: config.liveSpoolDir,
    targetSegmentSec: segmentSec,
    ...(plan.lowLatency ? { partTargetSec: Math.min(lowLatencyPartSec, segmentSec) } : {}),
    log,
    // The spool keeps the longest window it serves (outputs', preview's) plus a margin, in chunks of this length.
    spool: { chunkSec: config.liveSpoolChunkSec, previewWindowSec: config.livePreviewWindowSec },
  };
  // After a restart the event continues the run its spool holds (DECISIONS.md, "Live: a fragmented MP4 spool").
  const pipeline = (adopt ? await LiveEventPipeline.adopt(options) : undefined) ?? new LiveEventPipeline({ ...options, runId });
  if (plan.encodingType !== 'Standard' && plan.encodingType !== 'Premium1080p') return pipeline;
  const ladder = new TranscodeLadder({
    pipeline,
    presetName: plan.presetName === 'Default1080p' || (plan.presetName === undefined && plan.encodingType === 'Premium1080p') ? 'Default1080p' : 'Default720p',
    keyFrameIntervalSec: segmentSec,
    log,
    x264Preset: config.liveX264Preset,
    maxRungs: config.liveMaxRungs,
    ffmpegPath: config.ffmpegPath,
  });
  return {
    attach: () => ladder.attach(),
    presentation: (window) => pipeline.presentation(window),
    runId: pipeline.runId,
    startOutput: (output, fromMs) => pipeline.startOutput(output, fromMs),
    finishOutput: (outputId, target) => pipeline.finishOutput(outputId, target),
    health: () => pipeline.health(),
    end: async () => {
      await ladder.close();
      await pipeline.end();
    },
    close: async () => {
      await ladder.close();
      await pipeline.close();
    },
    removeSpool: () => pipeline.removeSpool(),
  };
}

export interface LivePlane {
  runtime: LiveRuntime;
  /** Opens the ingest listeners and resumes the events the store says are live. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Live events in this process: the runtime over the store, the shared RTMP (and RTMPS) listener, the shared SRT
 * listener (each running SRT event's receiver behind it). Created before the control plane (which drives it) and
 * the origin (which plays from it); `start` opens the listeners once the HTTP server listens.
 */
export function createLivePlane(deps: {
  config: Readonly<Config>;
  db: Db;
  dialect: DialectName;
  stores: AccountStores;
  log: Logger;
  /** Host name written into ingest URLs. */
  ingestHost: () => string;
}): LivePlane {
  const { config, log } = deps;
  let rtmp: IngestListener | undefined;
  let rtmps: IngestListener | undefined;
  let srt: Promise<SrtIngestServer> | undefined;
  let srtPort: number | undefined;
  // Opened by `start`, or by the first SRT event the runtime starts if that comes first.
  const openSrt = (): Promise<SrtIngestServer> =>
    (srt ??= createSrtIngestServer({
      port: config.liveSrtPort,
      host: config.liveRtmpHost,
      authorizer: runtime,
      log,
      backend: { ffmpegPath: config.ffmpegPath },
    }).then((server) => {
      srtPort = server.port;
      return server;
    }));
  const runtime: LiveRuntime = new LiveRuntime({
    store: new StoreLiveEvents(deps.db, deps.dialect, deps.stores),
    createPipeline: (plan, runId, adopt) => createEventPipeline(config, log, plan, runId, adopt ?? false),
    log,
    ingestHost: deps.ingestHost,
    rtmpPort: () => rtmp?.port,
    rtmpsPort: () => rtmps?.port,
    srtPort: () => srtPort ?? config.liveSrtPort,
    previewWindowSec: config.livePreviewWindowSec,
    createSrtListener: async (plan) => (await openSrt()).open({ eventId: plan.eventId, name: plan.name, passphrase: plan.accessToken }),
  });
  return {
    runtime,
    async start() {
      rtmp = await createRtmpListener({ port: config.liveRtmpPort, host: config.liveRtmpHost, authorizer: runtime, log });
      if (config.liveRtmpsCertFile && config.liveRtmpsKeyFile) {
        rtmps = await createRtmpListener({
          port: config.liveRtmpsPort,
          host: config.liveRtmpHost,
          tls: { cert: fs.readFileSync(config.liveRtmpsCertFile), key: fs.readFileSync(config.liveRtmpsKeyFile) },
          authorizer: runtime,
          log,
        });
      }
      await openSrt();
      await runtime.resume();
    },
    async close() {
      await rtmp?.close();
      await rtmps?.close();
      await runtime.close();
      // After the runtime: its events' SRT listeners close first.
      await (await srt?.catch(() => undefined))?.close();
    },
  };
}

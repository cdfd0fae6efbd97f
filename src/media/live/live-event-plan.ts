/**
 * What the live runtime needs to know about an event, read from the store by an adapter main.ts wires. The
 * runtime owns no table: the control plane writes the desired state (Starting, Stopping…) and asks the runtime
 * to reconcile; the runtime then sets the reached state (Running, Stopped) itself.
 */
import type { BlobStore } from '../../storage/blob-store.js';

export type LiveEncodingType = 'None' | 'PassthroughBasic' | 'PassthroughStandard' | 'Standard' | 'Premium1080p';
export type LiveEventState = 'Stopped' | 'Starting' | 'Running' | 'Stopping' | 'Deleting';

export interface IpAllowRule {
  address: string;
  subnetPrefixLength?: number;
}

export interface LiveOutputPlan {
  outputId: string;
  name: string;
  assetId: string;
  /** `{manifestName}.ism` is the archive's server manifest. */
  manifestName: string;
  /** DVR window and archive length, seconds. */
  archiveWindowSec: number;
  /** When the output was created (recording starts then, or when the event starts, whichever is later). */
  createdMs: number;
}

export interface LiveEventPlan {
  eventId: string;
  projectId: string;
  name: string;
  /** Desired state, as the control plane wrote it. */
  state: LiveEventState;
  protocol: 'RTMP' | 'RTMPS' | 'SRT';
  accessToken: string;
  /** `input.accessControl.ip.allow`; empty = every address. */
  ipAllow: IpAllowRule[];
  encodingType: LiveEncodingType;
  /** `Default720p`, `Default1080p`, or undefined for pass-through. */
  presetName?: string;
  /** Keyframe interval for encoding types; segment target for pass-through. */
  keyFrameIntervalSec: number;
  lowLatency: boolean;
  previewLocatorId: string;
  outputs: LiveOutputPlan[];
}

/** Where an asset's files go: the driver, container and folder. */
/** The DVR window of an event's preview locator, seconds, unless `REEL_LIVE_PREVIEW_WINDOW_SEC` says otherwise. */
export const defaultPreviewWindowSec = 300;

export interface ArchiveTarget {
  store: BlobStore;
  container: string;
  /** Folder inside the container, without slashes at either end, or ''. */
  prefix: string;
}

export interface LiveEventStore {
  load(eventId: string): Promise<LiveEventPlan | undefined>;
  /** Events whose desired state is Starting or Running (resumed at boot) or Stopping (finished at boot). */
  listActive(): Promise<string[]>;
  /** Opens the storage of an asset for the archive. */
  archiveTarget(assetId: string): Promise<ArchiveTarget>;
}

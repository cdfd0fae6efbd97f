/**
 * The encoding engine's contract: one transform output (an MK.IO preset object, as stored on the transform)
 * applied to the job's input files, with ffmpeg underneath. The engine reads its inputs from what Reel itself
 * produced: a local path (a Local driver's file, or a `JobInputHttp` input the runner downloaded through its
 * checked client) or Reel's signed `/files/...` URL, which streams byte ranges through the storage driver;
 * never a tenant's URL. It writes every output file into `workDir` on local disk and reports progress. The job
 * runner uploads the files it returns into the output asset through the storage driver.
 */
export interface EncodeInput {
  /** What ffmpeg opens: Reel's signed http(s) URL or an absolute local path (never a tenant's URL). */
  url: string;
  /** The source file name (for `{Basename}` and output naming), e.g. `source.mp4`. */
  fileName: string;
}

export interface EncodeRequest {
  /** The transform output's `preset` exactly as MK.IO's wire shape has it (`@odata.type` discriminated). */
  preset: Record<string, unknown>;
  /** Usually one file; several when a preset takes several (e.g. the converter over an asset's renditions). */
  inputs: EncodeInput[];
  /** Clip times from `JobInputAsset.start`/`end` (AbsoluteClipTime), in seconds from the source start. */
  clip?: { startSec?: number; endSec?: number };
  /** An empty directory the engine owns; outputs are written here. */
  workDir: string;
  signal: AbortSignal;
  /** 0–100, called as ffmpeg reports progress (at most a few times a second). */
  onProgress?: (percent: number) => void;
}

export interface EncodedFile {
  /** Name in the output asset (may contain `/` for folders; normally flat). */
  name: string;
  /** Absolute path in `workDir`. */
  path: string;
  size: number;
  contentType: string;
}

/** One MP4 track the job wrote, for usage metering: its media and, for video, its picture size. */
export interface EncodedTrack {
  media: 'video' | 'audio';
  width?: number;
  height?: number;
}

export interface EncodeResult {
  files: EncodedFile[];
  /** What was encoded, for usage metering: the output timeline's length and every MP4 track written. */
  encoded?: { durationSec: number; tracks: EncodedTrack[] };
}

/** MK.IO `JobOutput.error` vocabulary (MKIO-API.md §10.2). */
export type EncodeErrorCode =
  | 'ServiceError'
  | 'ServiceTransientError'
  | 'DownloadNotAccessible'
  | 'DownloadTransientError'
  | 'UploadNotAccessible'
  | 'UploadTransientError'
  | 'ConfigurationUnsupported'
  | 'ContentMalformed'
  | 'ContentUnsupported'
  | 'IdentityUnsupported';
export type EncodeErrorCategory = 'Service' | 'Download' | 'Upload' | 'Configuration' | 'Content' | 'Account';

const categoryOf: Record<EncodeErrorCode, EncodeErrorCategory> = {
  ServiceError: 'Service',
  ServiceTransientError: 'Service',
  DownloadNotAccessible: 'Download',
  DownloadTransientError: 'Download',
  UploadNotAccessible: 'Upload',
  UploadTransientError: 'Upload',
  ConfigurationUnsupported: 'Configuration',
  ContentMalformed: 'Content',
  ContentUnsupported: 'Content',
  IdentityUnsupported: 'Account',
};

/** A job output failure with the fields MK.IO reports; `message` carries ffmpeg's reason, never a URL signature. */
export class EncodeError extends Error {
  readonly category: EncodeErrorCategory;
  readonly retry: 'DoNotRetry' | 'MayRetry';

  constructor(
    readonly code: EncodeErrorCode,
    message: string,
    options?: { cause?: unknown; retry?: 'DoNotRetry' | 'MayRetry' },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'EncodeError';
    this.category = categoryOf[code];
    this.retry = options?.retry ?? (code.endsWith('TransientError') ? 'MayRetry' : 'DoNotRetry');
  }
}

export interface EncodeEngine {
  /**
   * Checks a preset before a transform is saved: returns human-readable problems (empty = supported). The
   * transforms API answers 400 with them, so an unsupported preset never reaches a job.
   */
  validatePreset(preset: Record<string, unknown>): string[];
  /**
   * Runs one transform output. Resolves with the files written, or rejects with an `EncodeError` (corrupt
   * input → ContentMalformed with ffmpeg's reason, etc.) or with `signal.reason` when aborted; after an abort
   * ffmpeg is gone within a few seconds and nothing is returned.
   */
  run(request: EncodeRequest): Promise<EncodeResult>;
}

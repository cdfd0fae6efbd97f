/**
 * What every ingest listener (RTMP, SRT) hands the live pipeline: FLV tags. RTMP carries them natively (message
 * types 8, 9, 18 are FLV tag bodies); SRT's MPEG-TS is remuxed to FLV by ffmpeg. One shape for both keeps one
 * pipeline behind every protocol.
 */

/** One FLV tag: type and timestamp from the tag header, the tag body as a view (never copied). */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data (`onMetaData`). */
  type: 8 | 9 | 18;
  /** Decode timestamp in milliseconds, as sent (RTMP extended timestamps already applied; may wrap at 2^32). */
  timestampMs: number;
  /** The tag body: for video the `AVCVIDEOPACKET` header byte(s) + payload, for audio the `AACAUDIODATA` header + payload. */
  data: Uint8Array;
}

/** Where an admitted stream's tags go. The listener calls these in order, on the event loop. */
export interface IngestSink {
  onTag(tag: FlvTag): void;
  /** The stream ended: the encoder closed, sent nothing for the idle timeout, or the connection broke. Called once. */
  onEnd(reason: 'closed' | 'idle' | 'error' | 'kicked'): void;
}

export type IngestProtocol = 'RTMP' | 'RTMPS' | 'SRT';

/** A connecting encoder, as the listener saw it before any media. */
export interface IngestRequest {
  protocol: IngestProtocol;
  /** RTMP: the `app` of `connect` (e.g. the access token); SRT: the event id the listener was opened for. */
  app: string;
  /** RTMP: the stream name of `publish` (the stream key); SRT: the stream id, '' when none. */
  streamKey: string;
  /** The encoder's address, as the socket reports it (IPv4-mapped IPv6 possible). */
  remoteAddress: string;
}

/** Admission: a sink for an accepted stream plus a way for the runtime to drop it later. */
export interface IngestAdmission {
  sink: IngestSink;
  /** The event the stream feeds (logs, health). */
  eventId: string;
}

/** Decides at connect time whether a stream may publish; refusals carry a reason for the log (never the token). */
export interface IngestAuthorizer {
  admit(request: IngestRequest, kick: () => void): Promise<IngestAdmission | { refused: 'unknown-token' | 'event-not-running' | 'ip-denied' | 'busy' }>;
}

/** A running listener. */
export interface IngestListener {
  /** The port actually bound (config may ask for 0 = any). */
  readonly port: number;
  close(): Promise<void>;
}

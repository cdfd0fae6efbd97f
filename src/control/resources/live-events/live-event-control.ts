/**
 * The control plane's view of the live runtime (owned here, implemented by `media/live`, wired by main.ts): the
 * service writes the desired state to the store, then asks the runtime to make it so.
 */

export interface LiveIngestHealth {
  /** Whether an encoder is connected now. */
  isConnected: boolean;
  /** Received bits per second over the last few seconds. */
  bitrateBps: number;
  /** Video frames per second over the last few seconds. */
  frameRate: number;
  /** When the last frame arrived, ms since epoch; undefined before any. */
  lastFrameMs?: number;
  /** The last problem with the stream (an unsupported codec, a refused reconnect), for the operator. */
  lastError?: string;
}

export interface LiveEndpointUrl {
  protocol: string;
  url: string;
}

export interface LiveEventControl {
  /**
   * Bring ingest and recording in line with the store for one event: Starting → listeners accept its token
   * (then the runtime sets Running); Stopping → drop the encoder, finish every output's archive (then Stopped);
   * outputs added or removed → start or finish their recording. Resolves when that state is reached.
   */
  reconcile(eventId: string): Promise<void>;
  /** Ingest health while the event runs, undefined otherwise. */
  health(eventId: string): LiveIngestHealth | undefined;
  /**
   * `input.endpoints` for an event: URLs that reach this server's listeners, under `host` when given (the event's
   * ingest host name, see `ingestHost`), else under the server's own host.
   */
  ingestEndpoints(event: { eventId: string; protocol: 'RTMP' | 'RTMPS' | 'SRT'; accessToken: string; host?: string }): LiveEndpointUrl[];
}

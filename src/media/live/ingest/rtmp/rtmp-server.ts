import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../../../shared/log.js';
import type { IngestAdmission, IngestAuthorizer, IngestListener, IngestProtocol } from '../ingest-contracts.js';
import { Amf0Reader, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.js';
import { ChunkStreamReader, encodeChunks, readUint32, type RtmpMessage } from './chunk-stream.js';
import { RtmpHandshake } from './rtmp-handshake.js';

export interface RtmpListenerOptions {
  /** TCP port; 0 = any free port (read it back from `IngestListener.port`). */
  port: number;
  host: string;
  /** PEM certificate and key: the listener speaks RTMPS (RTMP inside TLS) and reports protocol `RTMPS`. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  authorizer: IngestAuthorizer;
  log: Logger;
  /** A publishing encoder that sends nothing this long is dropped (`onEnd('idle')`). */
  idleTimeoutMs?: number;
  /** A connection that has not been admitted to publish this long after connecting is closed. */
  publishTimeoutMs?: number;
  /** Connections accepted at once (each may hold up to 2 MiB of partial messages before admission). */
  maxConnections?: number;
}

/** What we announce and how we chunk: 4096-byte chunks (as OBS and nginx-rtmp), a 2.5 MB acknowledgement window. */
const outgoingChunkSize = 4096;
const windowAckBytes = 2_500_000;
/** Video FourCCs of Enhanced RTMP the pipeline takes (flv-media.ts), answered to a `connect` that lists its own. */
const enhancedVideoFourCcs: readonly string[] = ['avc1', 'hvc1', 'hev1'];
/**
 * An Acknowledgement we owe waits until the publisher pauses this long. An encoder that closes with bytes of ours
 * unread makes its kernel reset the connection and throw away what it had not sent yet: ffmpeg pushing a file
 * faster than real time lost its last seconds to the Acknowledgements of its final megabytes. A publisher that
 * really waits for an Acknowledgement pauses, and gets it then (docs/DECISIONS.md, "RTMP acknowledgements").
 */
const ackAfterQuietMs = 250;
/** Before admission a peer is a stranger: its commands are a few hundred bytes, so nothing larger is assembled. */
const preAdmissionMaxMessageBytes = 64 * 1024;
/** After admission: video frames (a 4K keyframe is a few MB); the length field's own limit is 16 MiB − 1. */
const publishingMaxMessageBytes = 0xffffff;
const maxChunkStreams = 32;

const enum MessageType {
  SetChunkSize = 1,
  Abort = 2,
  Acknowledgement = 3,
  UserControl = 4,
  WindowAckSize = 5,
  SetPeerBandwidth = 6,
  Audio = 8,
  Video = 9,
  DataAmf3 = 15,
  CommandAmf3 = 17,
  DataAmf0 = 18,
  CommandAmf0 = 20,
}

/** `@setDataFrame` as an AMF0 string (marker, length, bytes): the prefix ffmpeg and OBS put before `onMetaData`. */
const setDataFrame = encodeAmf0('@setDataFrame');

/** The stream id `createStream` hands out; a publisher has exactly one. */
const publishStreamId = 1;

/**
 * Our receive-only RTMP(S) server: one listener for every live event. Admission happens at `publish`, through the
 * authorizer, with the `app` of `connect` and the stream name of `publish` as the encoder sent them (they hold the
 * access token, so they are never logged). Audio, video and data messages are FLV tag bodies already; they go to
 * the admitted sink as they are, without a remux.
 */
export async function createRtmpListener(options: RtmpListenerOptions): Promise<IngestListener> {
  const log = options.log.child({ component: 'live.ingest.rtmp' });
  const protocol: IngestProtocol = options.tls ? 'RTMPS' : 'RTMP';
  const connections = new Set<RtmpConnection>();
  const onSocket = (socket: net.Socket): void => {
    const connection = new RtmpConnection(socket, protocol, options, log);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  };
  const server = options.tls ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onSocket) : net.createServer(onSocket);
  server.maxConnections = options.maxConnections ?? 1000;
  // A TLS handshake that fails never becomes a connection; say so at debug level only (scanners do this all day).
  server.on('tlsClientError', (err: Error) => log.debug({ err: err.message }, 'rtmps handshake failed'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'rtmp listener error'));
  const port = (server.address() as net.AddressInfo).port;
  log.info({ port, host: options.host, protocol }, 'rtmp listener started');
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.close('closed');
      await closed;
      log.info({ port, protocol }, 'rtmp listener stopped');
    },
  };
}

type ConnectionState = 'handshake' | 'connected' | 'admitting' | 'publishing' | 'closed';

/** One encoder connection: handshake, commands, then media into the admitted sink. */
class RtmpConnection {
  #state: ConnectionState = 'handshake';
  readonly #handshake = new RtmpHandshake();
  readonly #reader: ChunkStreamReader;
  readonly #remoteAddress: string;
  readonly #log: Logger;
  #app = '';
  #admission: IngestAdmission | undefined;
  #ended = false;
  #bytesReceived = 0;
  #lastAckAt = 0;
  #peerWindowBytes = windowAckBytes;
  #publishTimer: NodeJS.Timeout | undefined;
  /** Armed while an Acknowledgement is owed; every read pushes it back. */
  #ackTimer: NodeJS.Timeout | undefined;
  /** Why the connection closed, for a sink that arrives after it did (closed or kicked while `admit` ran). */
  #closeReason: 'closed' | 'idle' | 'error' | 'kicked' = 'closed';
  /** Our outgoing chunk size: RTMP's 128 until our Set Chunk Size is sent. */
  #chunkSize = 128;

  constructor(
    private readonly socket: net.Socket,
    private readonly protocol: IngestProtocol,
    private readonly options: RtmpListenerOptions,
    log: Logger,
  ) {
    this.#remoteAddress = socket.remoteAddress ?? '';
    this.#log = log.child({ remoteAddress: this.#remoteAddress, remotePort: socket.remotePort });
    this.#reader = new ChunkStreamReader((m) => this.#onMessage(m), { maxMessageBytes: preAdmissionMaxMessageBytes, maxChunkStreams });
    socket.setNoDelay(true);
    this.#publishTimer = setTimeout(() => {
      this.#log.info('rtmp connection closed: no publish in time');
      this.close('closed');
    }, options.publishTimeoutMs ?? 10_000);
    socket.setTimeout(options.idleTimeoutMs ?? 10_000);
    socket.on('timeout', () => {
      if (this.#state === 'publishing') this.#log.info({ eventId: this.#admission?.eventId }, 'rtmp stream idle');
      this.close('idle');
    });
    socket.on('data', (bytes: Buffer) => this.#onData(bytes));
    socket.on('error', (err) => {
      this.#log.debug({ err: err.message }, 'rtmp socket error');
      this.close('error');
    });
    socket.on('end', () => this.close('closed'));
    socket.on('close', () => this.close('closed'));
  }

  /** Ends the stream (once) and drops the connection. */
  close(reason: 'closed' | 'idle' | 'error' | 'kicked'): void {
    if (this.#state === 'closed') {
      // Already over (a refusal waiting for its answer to flush): the peer left or the listener stops.
      this.socket.destroy();
      return;
    }
    this.#state = 'closed';
    this.#closeReason = reason;
    clearTimeout(this.#publishTimer);
    clearTimeout(this.#ackTimer);
    this.socket.destroy();
    this.#end(reason);
  }

  /** Read through a method: the state changes while `admit` is awaited, which narrowing cannot see. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #end(reason: 'closed' | 'idle' | 'error' | 'kicked'): void {
    if (this.#ended || this.#admission === undefined) return;
    this.#ended = true;
    this.#log.info({ eventId: this.#admission.eventId, reason }, 'rtmp stream ended');
    try {
      this.#admission.sink.onEnd(reason);
    } catch (err) {
      // Socket events call this: a throw here would take the process down.
      this.#log.error({ err, eventId: this.#admission.eventId }, 'live pipeline failed to end an ingest stream');
    }
  }

  #onData(bytes: Buffer): void {
    if (this.#state === 'closed') return;
    this.#bytesReceived += bytes.byteLength;
    try {
      if (this.#state === 'handshake') {
        let step = this.#handshake.push(bytes);
        if (step.kind === 'reply') {
          this.socket.write(step.reply);
          step = step.rest.byteLength > 0 ? this.#handshake.push(step.rest) : { kind: 'more' };
        }
        if (step.kind === 'refused') {
          this.#log.info({ reason: step.reason }, 'rtmp connection refused');
          this.close('error');
          return;
        }
        if (step.kind !== 'done') return;
        this.#state = 'connected';
        if (step.rest.byteLength > 0) this.#reader.push(step.rest);
      } else {
        this.#reader.push(bytes);
      }
      this.#acknowledge();
    } catch (err) {
      this.#log.info({ err: err instanceof Error ? err.message : String(err) }, 'rtmp protocol violation');
      this.close('error');
    }
  }

  /**
   * Acknowledgement (type 3) once a window the peer asked for has arrived (spec 5.4.3; a publisher may stall
   * without it), sent when the publisher pauses (`ackAfterQuietMs`), never while its bytes keep coming.
   */
  #acknowledge(): void {
    if (this.#state === 'closed' || this.#bytesReceived - this.#lastAckAt < this.#peerWindowBytes) return;
    if (this.#ackTimer) {
      this.#ackTimer.refresh();
      return;
    }
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      this.#lastAckAt = this.#bytesReceived;
      this.#send(2, MessageType.Acknowledgement, 0, uint32(this.#bytesReceived >>> 0));
    }, ackAfterQuietMs);
  }

  #onMessage(m: RtmpMessage): void {
    if (this.#state === 'closed') return;
    switch (m.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
        if (this.#state === 'publishing') this.#tag(m.typeId, m.timestampMs, m.payload);
        return;
      case MessageType.DataAmf0:
        if (this.#state === 'publishing') this.#tag(18, m.timestampMs, stripSetDataFrame(m.payload));
        return;
      case MessageType.WindowAckSize:
        if (m.payload.byteLength >= 4) this.#peerWindowBytes = Math.max(1, readUint32(m.payload, 0));
        return;
      case MessageType.UserControl:
        this.#userControl(m.payload);
        return;
      case MessageType.CommandAmf0:
        this.#command(m.payload);
        return;
      case MessageType.CommandAmf3:
        // An AMF3 command message is an AMF0 command behind one format byte (spec 7.1.1).
        this.#command(m.payload.subarray(1));
        return;
      default:
        // Set Chunk Size and Abort are applied by the chunk reader; Acknowledgement, Set Peer Bandwidth and AMF3
        // data need nothing from a receive-only server.
        return;
    }
  }

  #tag(type: 8 | 9 | 18, timestampMs: number, data: Uint8Array): void {
    try {
      this.#admission?.sink.onTag({ type, timestampMs, data });
    } catch (err) {
      this.#log.error({ err, eventId: this.#admission?.eventId }, 'live pipeline refused an ingest tag');
      this.close('error');
    }
  }

  /** Ping Request (event 6) is answered with a Ping Response carrying the same time (spec 7.1.7). */
  #userControl(payload: Uint8Array): void {
    if (payload.byteLength < 6) return;
    const event = (payload[0] << 8) | payload[1];
    if (event !== 6) return;
    const reply = new Uint8Array(6);
    reply[1] = 7;
    reply.set(payload.subarray(2, 6), 2);
    this.#send(2, MessageType.UserControl, 0, reply);
  }

  #command(payload: Uint8Array): void {
    const reader = new Amf0Reader(payload);
    const name = reader.read();
    const transactionId = reader.hasMore() ? reader.read() : 0;
    const args: Amf0Value[] = reader.readAll();
    const txn = typeof transactionId === 'number' ? transactionId : 0;
    switch (name) {
      case 'connect':
        this.#connect(txn, args[0]);
        return;
      case 'releaseStream':
        this.#result(txn, null, undefined);
        return;
      case 'FCPublish':
        this.#sendCommand(0, 'onFCPublish', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'FCPublish' });
        return;
      case 'createStream':
        this.#result(txn, null, publishStreamId);
        return;
      case 'publish':
        void this.#publish(typeof args[1] === 'string' ? args[1] : '');
        return;
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        this.close('closed');
        return;
      case 'play':
        // Receive-only: nothing is ever played from here.
        this.#onStatus('error', 'NetStream.Play.Failed', 'This server only receives streams.');
        this.close('closed');
        return;
      default:
        return;
    }
  }

  #connect(txn: number, commandObject: Amf0Value): void {
    if (this.#state !== 'connected') return;
    const command = isObject(commandObject) ? commandObject : {};
    this.#app = typeof command.app === 'string' ? command.app : '';
    this.#send(2, MessageType.WindowAckSize, 0, uint32(windowAckBytes));
    const bandwidth = new Uint8Array(5);
    bandwidth.set(uint32(windowAckBytes));
    bandwidth[4] = 2; // dynamic
    this.#send(2, MessageType.SetPeerBandwidth, 0, bandwidth);
    // Sent with the old chunk size (128), applies from the next message on.
    this.#send(2, MessageType.SetChunkSize, 0, uint32(outgoingChunkSize));
    this.#chunkSize = outgoingChunkSize;
    // Enhanced RTMP: an encoder that lists the codecs it could send (`fourCcList`) learns which of them we take.
    const offered = Array.isArray(command.fourCcList) ? command.fourCcList.filter((c): c is string => typeof c === 'string') : undefined;
    const taken = offered?.includes('*') ? [...enhancedVideoFourCcs] : offered?.filter((c) => enhancedVideoFourCcs.includes(c));
    this.#result(
      txn,
      { fmsVer: 'FMS/3,0,1,123', capabilities: 31, ...(taken ? { fourCcList: taken } : {}) },
      { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 },
    );
  }

  async #publish(rawName: string): Promise<void> {
    if (this.#state !== 'connected') return;
    this.#state = 'admitting';
    // OBS and ffmpeg may append `?query` options to the stream name; the key is what comes before.
    const queryAt = rawName.indexOf('?');
    const streamKey = queryAt >= 0 ? rawName.slice(0, queryAt) : rawName;
    let answer: Awaited<ReturnType<IngestAuthorizer['admit']>>;
    try {
      answer = await this.options.authorizer.admit({ protocol: this.protocol, app: this.#app, streamKey, remoteAddress: this.#remoteAddress }, () =>
        this.close('kicked'),
      );
    } catch (err) {
      this.#log.error({ err }, 'rtmp admission failed');
      answer = { refused: 'event-not-running' };
    }
    if ('refused' in answer) {
      this.#log.info({ reason: answer.refused, protocol: this.protocol }, 'rtmp publish refused');
      if (this.#isClosed()) return;
      this.#onStatus('error', 'NetStream.Publish.BadName', 'Publish refused.');
      // Let the refusal reach the encoder (it prints it), then drop the connection.
      this.#state = 'closed';
      clearTimeout(this.#publishTimer);
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
      return;
    }
    this.#admission = answer;
    if (this.#isClosed()) {
      // The encoder left (or was kicked) while the authorizer was deciding: release what it set up.
      this.#end(this.#closeReason);
      return;
    }
    this.#state = 'publishing';
    clearTimeout(this.#publishTimer);
    this.#reader.limits.maxMessageBytes = publishingMaxMessageBytes;
    this.#log.info({ eventId: answer.eventId, protocol: this.protocol }, 'rtmp stream admitted');
    const streamBegin = new Uint8Array(6);
    streamBegin[5] = publishStreamId;
    this.#send(2, MessageType.UserControl, 0, streamBegin);
    this.#onStatus('status', 'NetStream.Publish.Start', 'Publishing.');
  }

  #send(csid: number, typeId: number, streamId: number, payload: Uint8Array): void {
    if (this.#state === 'closed' || this.socket.destroyed) return;
    this.socket.write(encodeChunks({ csid, typeId, streamId, timestampMs: 0, payload }, this.#chunkSize));
  }

  #sendCommand(streamId: number, ...values: Amf0Value[]): void {
    this.#send(streamId === 0 ? 3 : 5, MessageType.CommandAmf0, streamId, encodeAmf0(...values));
  }

  #result(txn: number, ...values: Amf0Value[]): void {
    this.#sendCommand(0, '_result', txn, ...values);
  }

  #onStatus(level: 'status' | 'error', code: string, description: string): void {
    this.#sendCommand(publishStreamId, 'onStatus', 0, null, { level, code, description });
  }
}

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

function isObject(v: Amf0Value): v is Amf0Object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * RTMP publishers wrap metadata as `@setDataFrame`, `onMetaData`, {…}; an FLV script tag is `onMetaData`, {…}.
 * The wrapper is cut off (a view, no copy) so data tags look the same from every protocol.
 */
function stripSetDataFrame(payload: Uint8Array): Uint8Array {
  if (payload.byteLength < setDataFrame.byteLength) return payload;
  for (let i = 0; i < setDataFrame.byteLength; i++) if (payload[i] !== setDataFrame[i]) return payload;
  return payload.subarray(setDataFrame.byteLength);
}

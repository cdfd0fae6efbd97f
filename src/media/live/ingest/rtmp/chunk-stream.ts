import { MediaError } from '../../../../shared/errors.js';

/**
 * The RTMP chunk stream (Adobe RTMP specification 1.0, section 5.3), sans-I/O: `push` bytes as they arrive, get
 * whole messages back through the callback. Only chunk headers are ever buffered (at most 18 bytes); payload bytes
 * are copied straight into the one buffer each message gets, so a chunk split across TCP reads costs nothing extra.
 */

/** One reassembled RTMP message. */
export interface RtmpMessage {
  /** Message type id: 1 Set Chunk Size, 3 Ack, 4 User Control, 5 Window Ack Size, 8 audio, 9 video, 18 data, 20 command… */
  typeId: number;
  /** Message stream id (little-endian on the wire). */
  streamId: number;
  /** Absolute timestamp in milliseconds, modulo 2^32 (fmt 1/2/3 deltas and extended timestamps applied). */
  timestampMs: number;
  /** The chunk stream the message came on. */
  csid: number;
  /** The message body, a buffer of its own. */
  payload: Uint8Array;
}

export interface ChunkStreamLimits {
  /** Largest message accepted; the length field allows 16 MiB − 1. */
  maxMessageBytes: number;
  /** Distinct chunk stream ids a peer may use (encoders use a handful); bounds the per-csid state a peer can make. */
  maxChunkStreams: number;
}

/** RTMP's default chunk size before either side sends Set Chunk Size. */
export const defaultChunkSize = 128;
/** Largest chunk size accepted from a peer: a chunk never needs to be longer than the longest message. */
export const maxChunkSize = 0xffffff;

const extendedTimestampMarker = 0xffffff;

interface ChunkStreamState {
  /** Header fields of the last chunk on this csid, reused by fmt 1/2/3. */
  typeId: number;
  streamId: number;
  length: number;
  timestampMs: number;
  /** The delta fmt 3 adds when it starts a new message (0 after fmt 0, as nginx-rtmp and ffmpeg's servers do). */
  deltaMs: number;
  /** The last fmt 0/1/2 header carried an extended timestamp, so fmt 3 chunks carry one too (spec 5.3.1.3). */
  hasExtendedTimestamp: boolean;
  /** The message being assembled, or undefined between messages. */
  payload: Uint8Array | undefined;
  received: number;
}

function violation(detail: string): MediaError {
  return new MediaError(400, 'InvalidRtmpStream', `RTMP chunk stream: ${detail}`);
}

export class ChunkStreamReader {
  #chunkSize = defaultChunkSize;
  readonly #streams = new Map<number, ChunkStreamState>();
  /** The header of the chunk being read, gathered across pushes. */
  readonly #head = new Uint8Array(18);
  #headLength = 0;
  /** The chunk stream whose payload bytes come next, and how many of them belong to the current chunk. */
  #current: ChunkStreamState | undefined;
  #currentCsid = 0;
  #chunkLeft = 0;

  constructor(
    private readonly onMessage: (message: RtmpMessage) => void,
    readonly limits: ChunkStreamLimits = { maxMessageBytes: 0xffffff, maxChunkStreams: 64 },
  ) {}

  /** The peer's chunk size (Set Chunk Size is applied here as soon as its message completes). */
  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Feeds received bytes; messages are handed out synchronously, in order. Throws a MediaError on a violation. */
  push(bytes: Uint8Array): void {
    let offset = 0;
    const end = bytes.byteLength;
    while (offset < end) {
      if (this.#current === undefined) {
        offset = this.#readHeader(bytes, offset);
        continue;
      }
      const state = this.#current;
      const payload = state.payload as Uint8Array;
      const n = Math.min(this.#chunkLeft, end - offset);
      payload.set(bytes.subarray(offset, offset + n), state.received);
      state.received += n;
      this.#chunkLeft -= n;
      offset += n;
      if (this.#chunkLeft === 0) this.#finishChunk(state);
    }
  }

  /** Abort Message (type 2): drop the partly received message on a chunk stream. */
  abort(csid: number): void {
    const state = this.#streams.get(csid);
    if (state) {
      state.payload = undefined;
      state.received = 0;
    }
  }

  /** Gathers header bytes; returns the new offset. Once the header is whole, payload reading starts. */
  #readHeader(bytes: Uint8Array, offset: number): number {
    const head = this.#head;
    const gather = (upTo: number): boolean => {
      while (this.#headLength < upTo && offset < bytes.byteLength) head[this.#headLength++] = bytes[offset++];
      return this.#headLength >= upTo;
    };
    if (!gather(1)) return offset;
    const fmt = head[0] >> 6;
    const csidForm = head[0] & 0x3f;
    const basicLength = csidForm === 0 ? 2 : csidForm === 1 ? 3 : 1;
    if (!gather(basicLength)) return offset;
    const csid = csidForm === 0 ? head[1] + 64 : csidForm === 1 ? head[2] * 256 + head[1] + 64 : csidForm;
    const messageHeaderLength = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (!gather(basicLength + messageHeaderLength)) return offset;

    let state = this.#streams.get(csid);
    if (state === undefined) {
      if (fmt !== 0) throw violation(`fmt ${fmt} chunk on chunk stream ${csid} before any fmt 0 header`);
      if (this.#streams.size >= this.limits.maxChunkStreams) throw violation(`more than ${this.limits.maxChunkStreams} chunk streams`);
      state = { typeId: 0, streamId: 0, length: 0, timestampMs: 0, deltaMs: 0, hasExtendedTimestamp: false, payload: undefined, received: 0 };
    }
    const h = basicLength;
    const timestampField = fmt === 3 ? 0 : (head[h] << 16) | (head[h + 1] << 8) | head[h + 2];
    const hasExtended = fmt === 3 ? state.hasExtendedTimestamp : timestampField === extendedTimestampMarker;
    const fullLength = basicLength + messageHeaderLength + (hasExtended ? 4 : 0);
    if (!gather(fullLength)) return offset;
    const extended = hasExtended ? ((head[fullLength - 4] << 24) | (head[fullLength - 3] << 16) | (head[fullLength - 2] << 8) | head[fullLength - 1]) >>> 0 : 0;
    const timeValue = hasExtended ? extended : timestampField;

    if (fmt !== 3 && state.payload !== undefined) {
      // A new header in the middle of a message: the peer gave up on the old one (as after an Abort).
      state.payload = undefined;
      state.received = 0;
    }
    if (fmt <= 1) {
      state.length = (head[h + 3] << 16) | (head[h + 4] << 8) | head[h + 5];
      state.typeId = head[h + 6];
    }
    if (fmt === 0) state.streamId = (head[h + 7] | (head[h + 8] << 8) | (head[h + 9] << 16) | (head[h + 10] << 24)) >>> 0;
    if (fmt !== 3) state.hasExtendedTimestamp = hasExtended;

    if (state.payload === undefined) {
      // The first chunk of a message: its timestamp is fixed here.
      if (fmt === 0) {
        state.timestampMs = timeValue;
        state.deltaMs = 0;
      } else {
        if (fmt !== 3) state.deltaMs = timeValue;
        state.timestampMs = (state.timestampMs + state.deltaMs) >>> 0;
      }
      if (state.length > this.limits.maxMessageBytes) throw violation(`message of ${state.length} bytes (limit ${this.limits.maxMessageBytes})`);
      state.payload = new Uint8Array(state.length);
      state.received = 0;
    }
    this.#streams.set(csid, state);
    this.#headLength = 0;
    this.#current = state;
    this.#currentCsid = csid;
    this.#chunkLeft = Math.min(this.#chunkSize, state.length - state.received);
    if (this.#chunkLeft === 0) this.#finishChunk(state); // a zero-length message
    return offset;
  }

  #finishChunk(state: ChunkStreamState): void {
    this.#current = undefined;
    if (state.received < state.length) return;
    const payload = state.payload as Uint8Array;
    state.payload = undefined;
    state.received = 0;
    if (state.typeId === 1) this.#setChunkSize(payload);
    if (state.typeId === 2 && payload.byteLength >= 4) this.abort(readUint32(payload, 0));
    this.onMessage({ typeId: state.typeId, streamId: state.streamId, timestampMs: state.timestampMs, csid: this.#currentCsid, payload });
  }

  #setChunkSize(payload: Uint8Array): void {
    if (payload.byteLength < 4) throw violation('Set Chunk Size shorter than 4 bytes');
    const size = readUint32(payload, 0);
    // The top bit must be 0 (spec 5.4.1); a chunk longer than the longest message is never needed.
    if (size < 1 || size > maxChunkSize) throw violation(`chunk size ${size}`);
    this.#chunkSize = size;
  }
}

export function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** A message to send: written as a fmt 0 chunk, then fmt 3 continuation chunks of `chunkSize` bytes. */
export interface OutgoingMessage {
  csid: number;
  typeId: number;
  streamId: number;
  timestampMs: number;
  payload: Uint8Array;
}

/** Encodes one message into chunks (all of it in one buffer: our messages are small control and command messages). */
export function encodeChunks(message: OutgoingMessage, chunkSize: number): Uint8Array {
  const { csid, typeId, streamId, payload } = message;
  const timestampMs = message.timestampMs >>> 0;
  const extended = timestampMs >= extendedTimestampMarker;
  const basic = csid < 64 ? 1 : csid < 320 ? 2 : 3;
  const chunks = Math.max(1, Math.ceil(payload.byteLength / chunkSize));
  const extra = extended ? 4 : 0;
  const size = basic + 11 + extra + (chunks - 1) * (basic + extra) + payload.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  const writeBasic = (fmt: number): void => {
    if (basic === 1) out[offset++] = (fmt << 6) | csid;
    else if (basic === 2) {
      out[offset++] = fmt << 6;
      out[offset++] = csid - 64;
    } else {
      out[offset++] = (fmt << 6) | 1;
      out[offset++] = (csid - 64) & 0xff;
      out[offset++] = (csid - 64) >> 8;
    }
  };
  const writeExtended = (): void => {
    if (!extended) return;
    out[offset++] = timestampMs >>> 24;
    out[offset++] = (timestampMs >> 16) & 0xff;
    out[offset++] = (timestampMs >> 8) & 0xff;
    out[offset++] = timestampMs & 0xff;
  };
  writeBasic(0);
  const ts = extended ? extendedTimestampMarker : timestampMs;
  out[offset++] = (ts >> 16) & 0xff;
  out[offset++] = (ts >> 8) & 0xff;
  out[offset++] = ts & 0xff;
  out[offset++] = (payload.byteLength >> 16) & 0xff;
  out[offset++] = (payload.byteLength >> 8) & 0xff;
  out[offset++] = payload.byteLength & 0xff;
  out[offset++] = typeId;
  out[offset++] = streamId & 0xff;
  out[offset++] = (streamId >> 8) & 0xff;
  out[offset++] = (streamId >> 16) & 0xff;
  out[offset++] = streamId >>> 24;
  writeExtended();
  for (let start = 0; start < payload.byteLength; start += chunkSize) {
    if (start > 0) {
      writeBasic(3);
      writeExtended();
    }
    const part = payload.subarray(start, Math.min(payload.byteLength, start + chunkSize));
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

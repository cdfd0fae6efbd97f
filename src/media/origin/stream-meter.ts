import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { StreamedIncrement } from '../../store/usage-repository.js';
import type { EndpointView } from './playback-resolver.js';

/** Bytes written for one project's endpoint since the last flush. */
interface Counter {
  readonly projectId: string;
  readonly endpointName: string;
  bytes: number;
}

const counterKey = Symbol('reel.usageCounter');
const socketKey = Symbol('reel.usageSocket');
const markKey = Symbol('reel.usageMark');
const unsentKey = Symbol('reel.usageUnsent');
const destroyKey = Symbol('reel.usageDestroy');

/** A response being metered: its counter, its socket (a finished response lets go of it) and the socket's count at the start. */
interface MeteredResponse extends ServerResponse {
  [counterKey]?: Counter;
  [socketKey]?: MeteredSocket;
  [markKey]?: number;
}

/** A socket whose destruction notes how many bytes were still queued in the process, never to be sent. */
interface MeteredSocket extends Socket {
  [unsentKey]?: number;
  [destroyKey]?: Socket['_destroy'];
  _handle?: { writeQueueSize?: number } | null;
}

/** Bytes the socket has taken so far: dispatched to the OS or queued for it in the process. */
const socketBytes = (socket: Socket): number => socket.bytesWritten ?? 0;

/**
 * Stands in for a metered socket's `_destroy` (one shared function, the original kept on the socket): reads
 * libuv's write queue first, which the destruction discards, so a response cut off by its client counts what
 * left the process rather than everything Node had been given (a segment is written in one go).
 */
function destroyNotingUnsent(this: MeteredSocket, err: Error | null, cb: (err?: Error | null) => void): void {
  this[unsentKey] = this._handle?.writeQueueSize ?? 0;
  this[destroyKey]!.call(this, err, cb);
}

/** One listener for every metered response (no closure per request): adds what its socket wrote meanwhile. */
function onResponseClose(this: MeteredResponse): void {
  const counter = this[counterKey];
  const socket = this[socketKey];
  if (!counter || !socket) return;
  // A response that did not finish lost its socket: what was still queued never left.
  const unsent = this.writableFinished ? 0 : (socket[unsentKey] ?? 0);
  counter.bytes += Math.max(0, socketBytes(socket) - (this[markKey] ?? 0) - unsent);
  this[socketKey] = undefined;
}

/**
 * Streamed bytes per project, streaming endpoint and UTC day. The origin calls `track` once a playback request
 * is admitted to an endpoint; when the response closes (sent, or cut off by the client), the bytes its socket
 * took meanwhile — status line, headers and body, less what a cut-off response still had queued in the process —
 * are added to an in-memory counter of that endpoint. Every
 * `flushMs` (and on `close`) the counters are added to the `usage_streamed` table with upserts that add, so
 * several origin processes sum. A flush that fails keeps its bytes for the next one.
 */
export class StreamMeter {
  readonly #byView = new WeakMap<EndpointView, Counter>();
  readonly #byProject = new Map<string, Map<string, Counter>>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly add: (increments: StreamedIncrement[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    flushMs = 5000,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#timer = setInterval(() => void this.flush(), flushMs);
    this.#timer.unref();
  }

  /** Meters `res` for `endpoint` of `projectId`; a second call for the same response (a retried request) does nothing. */
  track(res: ServerResponse, projectId: string, endpoint: EndpointView): void {
    const metered = res as MeteredResponse;
    const socket = res.socket;
    if (metered[counterKey] !== undefined || !socket) return;
    metered[counterKey] = this.#counterOf(projectId, endpoint);
    const s = socket as MeteredSocket;
    metered[socketKey] = s;
    metered[markKey] = socketBytes(socket);
    // Once per connection, not per request.
    if (s[destroyKey] === undefined && typeof s._destroy === 'function') {
      s[destroyKey] = s._destroy;
      s._destroy = destroyNotingUnsent;
    }
    res.on('close', onResponseClose);
  }

  #counterOf(projectId: string, endpoint: EndpointView): Counter {
    // The resolver hands out one view per endpoint for a couple of seconds: the usual case is this lookup.
    const seen = this.#byView.get(endpoint);
    if (seen && seen.projectId === projectId) return seen;
    let byName = this.#byProject.get(projectId);
    if (!byName) this.#byProject.set(projectId, (byName = new Map()));
    let counter = byName.get(endpoint.name);
    if (!counter) byName.set(endpoint.name, (counter = { projectId, endpointName: endpoint.name, bytes: 0 }));
    this.#byView.set(endpoint, counter);
    return counter;
  }

  /** Adds the counters to the table (one flush at a time); bytes counted meanwhile wait for the next. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const day = this.now().toISOString().slice(0, 10);
    const taken: Array<[Counter, number]> = [];
    for (const byName of this.#byProject.values()) {
      for (const counter of byName.values()) {
        if (counter.bytes <= 0) continue;
        taken.push([counter, counter.bytes]);
        counter.bytes = 0;
      }
    }
    if (taken.length === 0) return;
    try {
      await this.add(taken.map(([c, bytes]) => ({ projectId: c.projectId, endpointName: c.endpointName, day, bytes })));
    } catch (err) {
      for (const [counter, bytes] of taken) counter.bytes += bytes;
      this.onError(err);
    }
  }

  /** Stops the timer and writes what is left (the server has closed its connections by then). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

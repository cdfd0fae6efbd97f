import dgram from 'node:dgram';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnTool } from '../../../ffmpeg-sandbox.js';
import type { Logger } from '../../../../shared/log.js';
import { FlvStreamReader } from '../flv-stream-reader.js';
import type { IngestAdmission } from '../ingest-contracts.js';

export interface SrtEventBackendOptions {
  /** The event's SRT passphrase (its access token). 10–79 characters. */
  passphrase: string;
  eventId: string;
  log: Logger;
  ffmpegPath?: string;
  /** SRT receive latency (the retransmission window), in milliseconds. */
  latencyMs?: number;
  /** An admitted stream whose remux delivers nothing this long is dropped (`onEnd('idle')`). */
  idleTimeoutMs?: number;
  /**
   * How much of the stream ffmpeg reads to learn its codecs before the first tag comes out (ffmpeg's default is 5 s
   * of delay). It should cover one keyframe interval: H.264's parameter sets come with the keyframes.
   */
  probeMs?: number;
  /** First wait before restarting an ffmpeg that ended without a stream (doubles up to `maxRestartDelayMs`). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
}

/** The stream the front admitted and relays to this backend. */
export interface SrtBackendStream {
  /** The loopback port of the ffmpeg that takes it: the relay's destination. */
  readonly port: number;
  /** Ends the stream with `reason` (once) and stops the ffmpeg carrying it; a new one listens again. */
  drop(reason: 'closed' | 'idle' | 'error' | 'kicked'): void;
}

interface Attached {
  admission: IngestAdmission;
  /** Called once when the backend ends the stream (ffmpeg exited, unreadable output, idle): the front closes the relay. */
  gone: () => void;
  ended: boolean;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  port: number;
  exited: Promise<void>;
  stream: Attached | undefined;
  /** We stopped it (close, kick, idle, error): its exit is not a crash. */
  stopping: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

const redacted = '[redacted]';

/**
 * One SRT event's receiver behind the shared SRT port: Debian's ffmpeg as an SRT listener on 127.0.0.1 (an
 * ephemeral port), which does the SRT protocol itself (decryption, retransmission, latency) and remuxes the
 * MPEG-TS it receives (`-c copy`) to FLV on stdout, read with FlvStreamReader, so the pipeline sees the same tags as
 * from RTMP (H.264 and AAC on ffmpeg 5.1). The ingest front (`srt-ingest-server.ts`) admits a caller and relays its
 * packets here; it `attach`es the admission first, so the tags go to that admission's sink.
 *
 * ffmpeg's listener takes one caller and exits when it leaves; a new one is started at once (on a new port) while
 * the event runs. The passphrase is passed as an option, never logged (nor ffmpeg's lines naming it).
 */
export class SrtEventBackend {
  readonly #options: SrtEventBackendOptions;
  readonly #log: Logger;
  readonly #args: (port: number) => string[];
  #open = true;
  #run: Run | undefined;
  #delayMs: number;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(options: SrtEventBackendOptions) {
    if (options.passphrase.length < 10 || options.passphrase.length > 79) throw new RangeError('SRT passphrase must be 10 to 79 characters');
    this.#options = options;
    this.#log = options.log.child({ component: 'live.ingest.srt', eventId: options.eventId });
    this.#delayMs = options.restartDelayMs ?? 500;
    const fixed = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-protocol_whitelist',
      'srt',
      '-f',
      'mpegts',
      '-analyzeduration',
      String((options.probeMs ?? 2000) * 1000), // microseconds
      // libsrt's options as input options rather than URL query parameters: the passphrase stays out of the URL
      // ffmpeg prints in its errors.
      '-mode',
      'listener',
      '-passphrase',
      options.passphrase,
      '-pbkeylen',
      '16',
      '-latency',
      String((options.latencyMs ?? 120) * 1000), // microseconds
    ];
    const output = ['-map', '0:v:0?', '-map', '0:a:0?', '-c', 'copy', '-f', 'flv', '-flvflags', 'no_duration_filesize', 'pipe:1'];
    this.#args = (port) => [...fixed, '-i', `srt://127.0.0.1:${port}`, ...output];
    void this.#start();
  }

  /**
   * Hands the stream ffmpeg is about to receive to `admission` (the front relays the admitted caller next). `gone`
   * is called once if the backend ends it first. Returns undefined when no ffmpeg is free to take it.
   */
  attach(admission: IngestAdmission, gone: () => void): SrtBackendStream | undefined {
    const run = this.#run;
    if (!run || run.stopping || run.stream) return undefined;
    const stream: Attached = { admission, gone, ended: false };
    run.stream = stream;
    const reader = new FlvStreamReader((tag) => admission.sink.onTag(tag));
    const feed = (bytes: Buffer): void => {
      if (stream.ended) return;
      this.#armIdle(run);
      try {
        reader.push(bytes);
      } catch (err) {
        this.#log.error({ err }, 'srt stream failed (unreadable remux output or a pipeline error)');
        this.#end(run, 'error');
        this.#stop(run);
      }
    };
    run.child.stdout.on('data', feed);
    return {
      port: run.port,
      drop: (reason) => {
        if (run.stream !== stream || stream.ended) return;
        this.#end(run, reason, false);
        this.#stop(run);
      },
    };
  }

  async close(): Promise<void> {
    this.#open = false;
    clearTimeout(this.#restartTimer);
    const run = this.#run;
    if (run) {
      this.#end(run, 'closed');
      this.#stop(run);
      await run.exited;
    }
  }

  /** Ends the attached stream once; `notifyFront` unless the front asked for it. */
  #end(run: Run, reason: 'closed' | 'idle' | 'error' | 'kicked', notifyFront = true): void {
    clearTimeout(run.idleTimer);
    const stream = run.stream;
    if (!stream || stream.ended) return;
    stream.ended = true;
    this.#log.info({ reason }, 'srt stream ended');
    try {
      stream.admission.sink.onEnd(reason);
    } catch (err) {
      // Process events call this: a throw here would take the process down.
      this.#log.error({ err }, 'live pipeline failed to end an ingest stream');
    }
    if (notifyFront) stream.gone();
  }

  #stop(run: Run): void {
    if (run.stopping) return;
    run.stopping = true;
    run.child.kill('SIGTERM');
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 2000);
    void run.exited.then(() => clearTimeout(killer));
  }

  #armIdle(run: Run): void {
    clearTimeout(run.idleTimer);
    run.idleTimer = setTimeout(() => {
      this.#end(run, 'idle');
      this.#stop(run);
    }, this.#options.idleTimeoutMs ?? 10_000);
  }

  async #start(): Promise<void> {
    this.#restartTimer = undefined;
    if (!this.#open) return;
    let port: number;
    try {
      port = await ephemeralUdpPort('127.0.0.1');
    } catch (err) {
      this.#log.error({ err }, 'srt receiver found no free loopback port');
      this.#restartLater();
      return;
    }
    if (!this.#open) return;
    const child = spawnTool(this.#options.ffmpegPath ?? 'ffmpeg', this.#args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = {
      child,
      port,
      exited: new Promise((resolve) => child.once('close', () => resolve())),
      stream: undefined,
      stopping: false,
      idleTimer: undefined,
    };
    this.#run = run;
    const passphrase = this.#options.passphrase;
    const redact = (text: string): string => text.split(passphrase).join(redacted);
    let stderrTail = '';
    child.stderr.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString('utf8')).slice(-2000);
    });
    child.on('error', (err) => this.#log.error({ err: redact(err.message) }, 'srt receiver could not start ffmpeg'));
    child.stdout.on('data', () => {
      // Only the front's relay reaches a loopback port, after admission; anything else is not ours to play.
      if (run.stream) return;
      this.#log.warn('srt receiver got a stream nobody admitted: dropped');
      this.#stop(run);
    });
    child.once('close', (code, signal) => {
      this.#end(run, 'closed');
      if (this.#run === run) this.#run = undefined;
      if (!this.#open) return;
      if (run.stream) {
        this.#delayMs = this.#options.restartDelayMs ?? 500; // the encoder left: listen again at once, it may be reconnecting
        void this.#start();
        return;
      }
      // SRT's own refusals do not end ffmpeg; an exit without a stream is a failure (or our stop).
      if (!run.stopping) this.#log.warn({ code, signal, stderr: redact(stderrTail.trim()), retryInMs: this.#delayMs }, 'srt receiver ffmpeg exited');
      this.#restartLater();
    });
  }

  #restartLater(): void {
    if (!this.#open) return;
    this.#restartTimer = setTimeout(() => void this.#start(), this.#delayMs);
    this.#delayMs = Math.min(this.#options.maxRestartDelayMs ?? 30_000, this.#delayMs * 2);
  }
}

/**
 * A UDP port the kernel hands out on `host` right now (bound, read, released): ffmpeg's SRT listener cannot
 * report a port it picked. Another process may take it before ffmpeg binds it; ffmpeg then exits and the backend
 * retries with another.
 */
export function ephemeralUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(0, host, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

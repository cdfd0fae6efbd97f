import dgram from 'node:dgram';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawnTool } from '../../../ffmpeg-sandbox.js';
import type { Logger } from '../../../../shared/log.js';
import { FlvStreamReader } from '../flv-stream-reader.js';
import type { IngestAdmission, IngestAuthorizer, IngestListener } from '../ingest-contracts.js';

export interface SrtListenerOptions {
  /** UDP port ffmpeg listens on (a real port: ffmpeg cannot report one it picked; see `findFreeUdpPort`). */
  port: number;
  host: string;
  /** The event's SRT passphrase (its access token): SRT's own handshake refuses any other. 10–79 characters. */
  passphrase: string;
  /** The event this listener belongs to; the authorizer sees it as the request's `app`. */
  eventId: string;
  authorizer: IngestAuthorizer;
  log: Logger;
  ffmpegPath?: string;
  /** SRT receive latency (the retransmission window), in milliseconds. */
  latencyMs?: number;
  /** An admitted stream that delivers nothing this long is dropped (`onEnd('idle')`) and the listener re-armed. */
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

/** One listening ffmpeg: waits for one encoder, remuxes its MPEG-TS to FLV on stdout, exits when it leaves. */
interface Session {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<void>;
  admission: IngestAdmission | undefined;
  ended: boolean;
  /** We stopped it (close, kick, idle, refusal): its exit is not a crash. */
  stopping: boolean;
  sawData: boolean;
  /** The authorizer turned the stream down: listen again only after the back-off, as after a failure. */
  refused: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

const redacted = '[redacted]';

/**
 * SRT ingest for one live event, through ffmpeg (Debian's ffmpeg is built with libsrt; there is no SRT stack for
 * Node): ffmpeg listens, SRT's handshake checks the passphrase, and the MPEG-TS it receives is remuxed (`-c copy`)
 * to FLV on stdout, read with FlvStreamReader, so the pipeline sees the same tags as from RTMP. FLV limits this to
 * H.264 and AAC on ffmpeg 5.1 (H.265 in FLV, "enhanced RTMP", arrived in ffmpeg 6.1).
 *
 * The authorizer is asked when the first bytes arrive. ffmpeg does not report the caller's address, so
 * `remoteAddress` is ''. When the encoder leaves, ffmpeg exits; a new one is started while the listener is open
 * so the encoder can come back. The passphrase is passed as an option, never logged (nor ffmpeg's lines naming it).
 */
export async function createSrtListener(options: SrtListenerOptions): Promise<IngestListener> {
  const log = options.log.child({ component: 'live.ingest.srt', eventId: options.eventId, port: options.port });
  if (options.passphrase.length < 10 || options.passphrase.length > 79) throw new RangeError('SRT passphrase must be 10 to 79 characters');
  const ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const firstDelayMs = options.restartDelayMs ?? 500;
  const maxDelayMs = options.maxRestartDelayMs ?? 30_000;
  const redact = (text: string): string => text.split(options.passphrase).join(redacted);
  const args = [
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
    '-i',
    `srt://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
    '-map',
    '0:v:0?',
    '-map',
    '0:a:0?',
    '-c',
    'copy',
    '-f',
    'flv',
    '-flvflags',
    'no_duration_filesize',
    'pipe:1',
  ];
  let open = true;
  let current: Session | undefined;
  let delayMs = firstDelayMs;
  let restartTimer: NodeJS.Timeout | undefined;

  const end = (session: Session, reason: 'closed' | 'idle' | 'error' | 'kicked'): void => {
    clearTimeout(session.idleTimer);
    if (session.ended || session.admission === undefined) return;
    session.ended = true;
    log.info({ reason }, 'srt stream ended');
    try {
      session.admission.sink.onEnd(reason);
    } catch (err) {
      // Process events call this: a throw here would take the process down.
      log.error({ err }, 'live pipeline failed to end an ingest stream');
    }
  };

  const stop = (session: Session): void => {
    if (session.stopping) return;
    session.stopping = true;
    session.child.kill('SIGTERM');
    const killer = setTimeout(() => session.child.kill('SIGKILL'), 2000);
    void session.exited.then(() => clearTimeout(killer));
  };

  const armIdle = (session: Session): void => {
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => {
      end(session, 'idle');
      stop(session);
    }, idleTimeoutMs);
  };

  const admit = async (session: Session, first: Buffer): Promise<void> => {
    let answer: Awaited<ReturnType<IngestAuthorizer['admit']>>;
    try {
      answer = await options.authorizer.admit({ protocol: 'SRT', app: options.eventId, streamKey: '', remoteAddress: '' }, () => {
        end(session, 'kicked');
        stop(session);
      });
    } catch (err) {
      log.error({ err }, 'srt admission failed');
      answer = { refused: 'event-not-running' };
    }
    if ('refused' in answer) {
      log.info({ reason: answer.refused }, 'srt stream refused');
      session.refused = true;
      stop(session);
      return;
    }
    session.admission = answer;
    if (session.stopping) {
      // Closed or kicked while the authorizer decided: release what it set up.
      end(session, 'closed');
      return;
    }
    log.info('srt stream admitted');
    const sink = answer.sink;
    const reader = new FlvStreamReader((tag) => sink.onTag(tag));
    const feed = (bytes: Buffer): void => {
      if (session.ended) return;
      armIdle(session);
      try {
        reader.push(bytes);
      } catch (err) {
        log.error({ err }, 'srt stream failed (unreadable remux output or a pipeline error)');
        end(session, 'error');
        stop(session);
      }
    };
    feed(first);
    session.child.stdout.on('data', feed);
    session.child.stdout.resume();
  };

  const start = (): void => {
    restartTimer = undefined;
    if (!open) return;
    const child = spawnTool(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const session: Session = {
      child,
      exited: new Promise((resolve) => child.once('close', () => resolve())),
      admission: undefined,
      ended: false,
      stopping: false,
      sawData: false,
      refused: false,
      idleTimer: undefined,
    };
    current = session;
    let stderrTail = '';
    child.stderr.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString('utf8')).slice(-2000);
    });
    child.on('error', (err) => log.error({ err: redact(err.message) }, 'srt listener could not start ffmpeg'));
    child.stdout.once('data', (first: Buffer) => {
      session.sawData = true;
      // Hold the stream in the pipe (ffmpeg waits) until the authorizer has answered.
      child.stdout.pause();
      void admit(session, first);
    });
    child.once('close', (code, signal) => {
      end(session, 'closed');
      if (current === session) current = undefined;
      if (!open) return;
      if (session.sawData && !session.refused) {
        delayMs = firstDelayMs; // the encoder left: listen again at once, it may be reconnecting
        start();
        return;
      }
      if (!session.stopping) {
        // SRT's own refusals (a wrong passphrase) do not end ffmpeg; an exit without a stream is a failure.
        log.warn({ code, signal, stderr: redact(stderrTail.trim()), retryInMs: delayMs }, 'srt listener ffmpeg exited');
      }
      restartTimer = setTimeout(start, delayMs);
      delayMs = Math.min(maxDelayMs, delayMs * 2);
    });
  };

  start();
  log.info({ host: options.host }, 'srt listener started');
  return {
    port: options.port,
    close: async () => {
      open = false;
      clearTimeout(restartTimer);
      const session = current;
      if (session) {
        end(session, 'closed');
        stop(session);
        await session.exited;
      }
      log.info('srt listener stopped');
    },
  };
}

/**
 * The first UDP port from `fromPort` up that can be bound on `host` right now (the SRT port of the next event).
 * Another process may take it before ffmpeg binds it; ffmpeg then exits and the listener retries with back-off.
 */
export async function findFreeUdpPort(host: string, fromPort: number, attempts = 1000): Promise<number> {
  for (let port = fromPort; port < Math.min(65536, fromPort + attempts); port++) {
    const free = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new RangeError(`no free UDP port in ${fromPort}–${fromPort + attempts - 1}`);
}

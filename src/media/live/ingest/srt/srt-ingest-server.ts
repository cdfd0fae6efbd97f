import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../../shared/log.js';
import type { IngestAuthorizer, IngestListener } from '../ingest-contracts.js';
import { madeWithPassphrase, parseKeyMaterial } from './srt-key-material.js';
import { SrtEventBackend, type SrtBackendStream, type SrtEventBackendOptions } from './srt-event-backend.js';
import {
  controlType,
  controlTypeOf,
  extensionType,
  handshakeType,
  inductionRequestFrom,
  inductionResponse,
  isControl,
  isHandshake,
  parseHandshake,
  rejection,
  rejectionOf,
  shutdownPacket,
  streamIdOf,
  type Handshake,
} from './srt-packets.js';

export interface SrtIngestServerOptions {
  /** UDP port every SRT event shares (0 = any free port; `port` tells which). */
  port: number;
  host: string;
  authorizer: IngestAuthorizer;
  log: Logger;
  /** A relayed caller that sends nothing this long is dropped (`onEnd('idle')`). */
  idleTimeoutMs?: number;
  /** How long an admitted caller waits for its event's receiver to answer before it is refused. */
  backendTimeoutMs?: number;
  /** Callers being admitted or relayed at once, beyond which new ones are refused (SRT_REJ_BACKLOG). */
  maxSessions?: number;
  /** For the events' receivers (`SrtEventBackend`). */
  backend?: Pick<SrtEventBackendOptions, 'ffmpegPath' | 'latencyMs' | 'probeMs' | 'restartDelayMs' | 'maxRestartDelayMs'>;
}

/** A running SRT event, as the front routes to it. */
export interface SrtEventRoute {
  eventId: string;
  /** The event's name: a stream id may name it (see `routeNamedBy`). */
  name: string;
  /** The event's access token, the SRT passphrase. */
  passphrase: string;
}

export interface SrtIngestServer extends IngestListener {
  /** Routes callers with the event's passphrase to it (and starts its receiver) until the listener is closed. */
  open(route: SrtEventRoute): Promise<IngestListener>;
}

interface Route extends SrtEventRoute {
  backend: SrtEventBackend;
}

/** One caller (address:port), from its conclusion to the end of its stream. */
interface Session {
  key: string;
  address: string;
  port: number;
  callerSocketId: number;
  state: 'admitting' | 'connecting' | 'relaying' | 'rejected' | 'closed';
  /** The caller's conclusion: sent on to the receiver with the receiver's cookie. */
  conclusion: Buffer;
  /** What retransmitted conclusions of a refused caller get. */
  rejectionPacket?: Buffer;
  route?: Route;
  stream?: SrtBackendStream;
  socket?: dgram.Socket;
  backendPort?: number;
  backendCookie?: number;
  backendSocketId?: number;
  lastSeenMs: number;
  timer?: NodeJS.Timeout;
}

type RefusalReason = 'no-passphrase' | 'bad-passphrase' | 'unknown-token' | 'event-not-running' | 'ip-denied' | 'busy' | 'receiver-down' | 'version' | 'full';

const rejectionFor: Record<RefusalReason, number> = {
  'no-passphrase': rejection.unsecure,
  'bad-passphrase': rejection.badSecret,
  'unknown-token': rejection.notFound,
  'event-not-running': rejection.notFound,
  'ip-denied': rejection.forbidden,
  busy: rejection.conflict,
  'receiver-down': rejection.down,
  version: rejection.version,
  full: rejection.rogue + 1, // SRT_REJ_BACKLOG
};

const cookieBucketMs = 60_000;
const backendRetryMs = 250;
/** How long a refused caller's retransmitted conclusions still get the refusal. */
const rejectedLingerMs = 3000;

/**
 * The one UDP port of SRT ingest: every SRT event is reached here, told apart by the caller's passphrase, as on
 * MK.IO (`srt://host:6000?passphrase={accessToken}`). The front answers the handshake's induction itself (a SYN
 * cookie, nothing stored), reads the conclusion's key material and stream id to find the event (the passphrase
 * whose key unwraps the caller's), asks the authorizer with the caller's real address (IP allow lists), and
 * refuses with an SRT rejection code, or relays the caller's packets, unread, to the event's receiver: an ffmpeg
 * SRT listener on loopback (`SrtEventBackend`), which does the SRT protocol itself. See DECISIONS.md.
 */
export async function createSrtIngestServer(options: SrtIngestServerOptions): Promise<SrtIngestServer> {
  const log = options.log.child({ component: 'live.ingest.srt' });
  const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  const backendTimeoutMs = options.backendTimeoutMs ?? 5000;
  const maxSessions = options.maxSessions ?? 256;
  const secret = crypto.randomBytes(32);
  const routes = new Map<string, Route>();
  const sessions = new Map<string, Session>();
  const socket = dgram.createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => log.error({ err }, 'srt ingest socket error'));
  const port = socket.address().port;

  const cookieFor = (address: string, remotePort: number, bucket: number): number =>
    crypto.createHmac('sha256', secret).update(`${address}|${remotePort}|${bucket}`).digest().readUInt32BE(0);
  const cookieValid = (address: string, remotePort: number, cookie: number): boolean => {
    const bucket = Math.floor(Date.now() / cookieBucketMs);
    return cookie === cookieFor(address, remotePort, bucket) || cookie === cookieFor(address, remotePort, bucket - 1);
  };

  const sendToCaller = (session: Session, packet: Buffer): void => socket.send(packet, session.port, session.address);

  const close = (session: Session, reason: 'caller-left' | 'receiver-left' | 'idle' | 'kicked' | 'closing' | 'replaced'): void => {
    if (session.state === 'closed') return;
    const wasRelaying = session.state === 'relaying' || session.state === 'connecting';
    session.state = 'closed';
    clearTimeout(session.timer);
    if (sessions.get(session.key) === session) sessions.delete(session.key);
    // A caller still waiting for the handshake's answer gets a rejection; a connected one a shutdown.
    if (wasRelaying && reason !== 'caller-left')
      sendToCaller(session, session.backendSocketId === undefined ? rejectionOf(session.conclusion, rejection.down) : shutdownPacket(session.callerSocketId));
    if (session.socket) {
      if (session.backendSocketId !== undefined && session.backendPort !== undefined && reason !== 'receiver-left')
        session.socket.send(shutdownPacket(session.backendSocketId), session.backendPort, '127.0.0.1', () => session.socket?.close());
      else session.socket.close();
    }
    // The receiver ends the stream itself when the caller leaves or it left; otherwise it is told to.
    if (reason !== 'caller-left' && reason !== 'receiver-left' && reason !== 'closing')
      session.stream?.drop(reason === 'idle' || reason === 'kicked' ? reason : 'closed');
    if (wasRelaying) log.info({ eventId: session.route?.eventId, remoteAddress: session.address, reason }, 'srt caller relay ended');
  };

  const refuse = (session: Session, reason: RefusalReason): void => {
    if (session.state === 'closed') return;
    log.info({ eventId: session.route?.eventId, remoteAddress: session.address, remotePort: session.port, reason }, 'srt caller refused');
    session.state = 'rejected';
    session.rejectionPacket = rejectionOf(session.conclusion, rejectionFor[reason]);
    sendToCaller(session, session.rejectionPacket);
    session.timer = setTimeout(() => {
      session.state = 'closed';
      if (sessions.get(session.key) === session) sessions.delete(session.key);
    }, rejectedLingerMs);
  };

  /** The event a stream id names: `#!::r={name or id},…` (SRT's access control syntax) or the whole id. */
  const routeNamedBy = (streamId: string): Route | undefined => {
    if (streamId === '') return undefined;
    const resource = streamId.startsWith('#!::')
      ? streamId
          .slice(4)
          .split(',')
          .map((pair) => pair.split('='))
          .find(([key]) => key === 'r')?.[1]
      : streamId;
    if (resource === undefined) return undefined;
    for (const route of routes.values()) if (route.eventId === resource || route.name === resource) return route;
    return undefined;
  };

  const routeFor = async (handshake: Handshake, streamId: string): Promise<Route | RefusalReason> => {
    const kmData = handshake.extensions.find((e) => e.type === extensionType.kmReq)?.data;
    if (!kmData) return 'no-passphrase';
    const km = parseKeyMaterial(kmData);
    if (!km) return 'bad-passphrase';
    const named = routeNamedBy(streamId);
    const candidates = named ? [named] : [...routes.values()];
    const matches = await Promise.all(candidates.map((route) => madeWithPassphrase(km, route.passphrase)));
    return candidates[matches.indexOf(true)] ?? 'bad-passphrase';
  };

  const admit = async (session: Session, handshake: Handshake): Promise<void> => {
    const streamId = streamIdOf(handshake);
    const route = await routeFor(handshake, streamId);
    if (session.state !== 'admitting') return;
    if (typeof route === 'string') return refuse(session, route);
    session.route = route;
    let answer: Awaited<ReturnType<IngestAuthorizer['admit']>>;
    try {
      answer = await options.authorizer.admit({ protocol: 'SRT', app: route.eventId, streamKey: streamId, remoteAddress: session.address }, () =>
        close(session, 'kicked'),
      );
    } catch (err) {
      log.error({ err, eventId: route.eventId }, 'srt admission failed');
      answer = { refused: 'event-not-running' };
    }
    if ('refused' in answer) return refuse(session, answer.refused);
    // The receiver may be between two ffmpeg runs (the previous encoder just left, or was kicked): wait for the next.
    let stream: SrtBackendStream | undefined;
    for (const deadline = Date.now() + backendTimeoutMs; session.state === 'admitting' && routes.get(route.eventId) === route;) {
      stream = route.backend.attach(answer, () => close(session, 'receiver-left'));
      if (stream || Date.now() > deadline) break;
      await sleep(backendRetryMs);
    }
    if (!stream) {
      // Closed while the authorizer decided, or no receiver free: release what the admission set up.
      answer.sink.onEnd('error');
      if (session.state === 'admitting') refuse(session, 'receiver-down');
      return;
    }
    session.stream = stream;
    session.backendPort = stream.port;
    session.state = 'connecting';
    connect(session);
  };

  /** Opens the caller's socket toward the receiver and gets its cookie with an induction, retried until it answers. */
  const connect = (session: Session): void => {
    const relay = dgram.createSocket('udp4');
    session.socket = relay;
    relay.on('error', () => undefined); // ICMP unreachable while ffmpeg starts: the retry covers it
    relay.on('message', (packet) => fromBackend(session, packet));
    const induction = inductionRequestFrom(session.conclusion);
    const deadline = Date.now() + backendTimeoutMs;
    const attempt = (): void => {
      if (session.state !== 'connecting' || session.backendCookie !== undefined) return;
      if (Date.now() > deadline) {
        session.stream?.drop('error');
        session.socket = undefined;
        relay.close();
        return refuse(session, 'receiver-down');
      }
      relay.send(induction, session.backendPort, '127.0.0.1');
      session.timer = setTimeout(attempt, backendRetryMs);
    };
    relay.bind(0, '127.0.0.1', attempt);
  };

  const fromBackend = (session: Session, packet: Buffer): void => {
    if (session.state === 'closed') return;
    if (isHandshake(packet)) {
      const type = packet.readUInt32BE(36);
      if (session.backendCookie === undefined) {
        if (type !== handshakeType.induction) return;
        // The receiver's cookie replaces ours in the caller's conclusion (and in its retransmissions).
        session.backendCookie = packet.readUInt32BE(44);
        clearTimeout(session.timer);
        session.state = 'relaying';
        session.lastSeenMs = Date.now();
        forwardConclusion(session, session.conclusion);
        return;
      }
      if (type === handshakeType.conclusion) session.backendSocketId = packet.readUInt32BE(40);
      else if (type >= 1000 && type < 0xfffffff0) {
        log.warn({ eventId: session.route?.eventId, code: type }, 'srt receiver refused a relayed caller');
        sendToCaller(session, packet);
        session.stream?.drop('error');
        return close(session, 'receiver-left');
      }
    } else if (isControl(packet) && controlTypeOf(packet) === controlType.shutdown) {
      sendToCaller(session, packet);
      return close(session, 'receiver-left');
    }
    sendToCaller(session, packet);
  };

  const forwardConclusion = (session: Session, conclusion: Buffer): void => {
    const copy = Buffer.from(conclusion);
    copy.writeUInt32BE(session.backendCookie!, 44);
    session.socket!.send(copy, session.backendPort, '127.0.0.1');
  };

  /**
   * A relayed caller's packet: passed on unread (no copy), but for its shutdown (the relay ends) and handshakes
   * (retransmitted conclusions get the receiver's cookie). False: not relayed, read it as a handshake (an induction,
   * or the same address and port connecting anew).
   */
  const relayFromCaller = (session: Session, packet: Buffer): boolean => {
    session.lastSeenMs = Date.now();
    const toReceiver = session.socket!;
    if (!isControl(packet)) return (void toReceiver.send(packet, session.backendPort, '127.0.0.1'), true);
    const type = controlTypeOf(packet);
    if (type === controlType.shutdown) {
      toReceiver.send(packet, session.backendPort, '127.0.0.1');
      close(session, 'caller-left');
      return true;
    }
    if (type !== controlType.handshake || !isHandshake(packet)) return (void toReceiver.send(packet, session.backendPort, '127.0.0.1'), true);
    const handshake = packet.readUInt32BE(36);
    if (handshake === handshakeType.conclusion && packet.readUInt32BE(40) === session.callerSocketId) return (forwardConclusion(session, packet), true);
    if (handshake === handshakeType.conclusion) close(session, 'replaced');
    return false;
  };

  socket.on('message', (packet, remote) => {
    const key = `${remote.address}|${remote.port}`;
    const session = sessions.get(key);
    if (session?.state === 'relaying' && relayFromCaller(session, packet)) return;
    if (!isHandshake(packet)) return;
    let handshake: Handshake;
    try {
      handshake = parseHandshake(packet);
    } catch {
      return; // unreadable extensions: a listener drops it, as libsrt does
    }
    if (handshake.type === handshakeType.induction) {
      // Stateless: the cookie proves, at the conclusion, that the caller receives at its address.
      socket.send(inductionResponse(packet, cookieFor(remote.address, remote.port, bucketNow())), remote.port, remote.address);
      return;
    }
    if (handshake.type !== handshakeType.conclusion) return;
    const current = sessions.get(key);
    if (current && current.state !== 'closed' && current.callerSocketId === handshake.socketId) {
      // A retransmitted conclusion while we decide or connect: wait; once refused: the same refusal again.
      if (current.state === 'rejected' && current.rejectionPacket) sendToCaller(current, current.rejectionPacket);
      return;
    }
    if (!cookieValid(remote.address, remote.port, handshake.cookie)) return;
    if (current) close(current, 'replaced');
    const fresh: Session = {
      key,
      address: remote.address,
      port: remote.port,
      callerSocketId: handshake.socketId,
      state: 'admitting',
      conclusion: packet,
      lastSeenMs: Date.now(),
    };
    sessions.set(key, fresh);
    if (handshake.version !== 5) return refuse(fresh, 'version');
    if (sessions.size > maxSessions) return refuse(fresh, 'full');
    admit(fresh, handshake).catch((err: unknown) => {
      log.error({ err }, 'srt caller admission failed');
      refuse(fresh, 'receiver-down');
    });
  });

  const bucketNow = (): number => Math.floor(Date.now() / cookieBucketMs);

  // One sweep for every relayed caller rather than a timer reset per packet.
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const session of sessions.values()) if (session.state === 'relaying' && now - session.lastSeenMs > idleTimeoutMs) close(session, 'idle');
    },
    Math.min(1000, idleTimeoutMs / 4),
  );
  sweeper.unref();

  log.info({ host: options.host, port }, 'srt ingest listening');
  return {
    port,
    open: async (route) => {
      if (routes.has(route.eventId)) throw new Error(`SRT event ${route.eventId} is already open`);
      const backend = new SrtEventBackend({ ...options.backend, passphrase: route.passphrase, eventId: route.eventId, idleTimeoutMs, log: options.log });
      const entry: Route = { ...route, backend };
      routes.set(route.eventId, entry);
      return {
        port,
        close: async () => {
          if (routes.get(route.eventId) === entry) routes.delete(route.eventId);
          for (const session of sessions.values()) if (session.route === entry) close(session, 'closing');
          await backend.close();
        },
      };
    },
    close: async () => {
      clearInterval(sweeper);
      for (const session of [...sessions.values()]) close(session, 'closing');
      await Promise.all([...routes.values()].map((route) => route.backend.close()));
      routes.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      log.info({ port }, 'srt ingest stopped');
    },
  };
}

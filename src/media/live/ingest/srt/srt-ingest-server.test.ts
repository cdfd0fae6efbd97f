import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createLogger } from '../../../../shared/log.js';
import type { FlvTag, IngestAdmission, IngestAuthorizer, IngestRequest, IngestSink } from '../ingest-contracts.js';
import { createSrtIngestServer, type SrtIngestServer } from './srt-ingest-server.js';
import type { IngestListener } from '../ingest-contracts.js';

const passA = 'srt-pass-a-4b7e9a1c2d';
const passB = 'srt-pass-b-91d0e33f7a';
const passC = 'srt-pass-c-0c55b2e8f1';

class RecordingSink implements IngestSink {
  readonly tags: FlvTag[] = [];
  readonly ends: string[] = [];
  #resolveEnded!: (reason: string) => void;
  readonly ended = new Promise<string>((resolve) => (this.#resolveEnded = resolve));
  #resolveFirstTag!: () => void;
  readonly firstTag = new Promise<void>((resolve) => (this.#resolveFirstTag = resolve));
  onTag(tag: FlvTag): void {
    this.tags.push(tag);
    this.#resolveFirstTag();
  }
  onEnd(reason: 'closed' | 'idle' | 'error' | 'kicked'): void {
    this.ends.push(reason);
    this.#resolveEnded(reason);
  }
}

/** The seam: admits every stream (a new sink each time) unless told to refuse an event. */
class TestAuthorizer implements IngestAuthorizer {
  readonly requests: IngestRequest[] = [];
  readonly sinks = new Map<string, RecordingSink[]>();
  readonly kicks: Array<() => void> = [];
  readonly refuse = new Map<string, 'ip-denied' | 'event-not-running' | 'busy'>();
  #waiters: Array<{ eventId: string; resolve: (sink: RecordingSink) => void }> = [];
  admit(request: IngestRequest, kick: () => void): Promise<IngestAdmission | { refused: 'ip-denied' | 'event-not-running' | 'busy' }> {
    this.requests.push(request);
    const refused = this.refuse.get(request.app);
    if (refused) return Promise.resolve({ refused });
    const sink = new RecordingSink();
    this.sinks.set(request.app, [...(this.sinks.get(request.app) ?? []), sink]);
    this.kicks.push(kick);
    for (const waiter of this.#waiters.filter((w) => w.eventId === request.app)) waiter.resolve(sink);
    this.#waiters = this.#waiters.filter((w) => w.eventId !== request.app);
    return Promise.resolve({ sink, eventId: request.app });
  }
  nextSink(eventId: string): Promise<RecordingSink> {
    return new Promise((resolve) => this.#waiters.push({ eventId, resolve }));
  }
}

// An induction and a conclusion captured from ffmpeg 5.1 (libsrt 1.5.1) calling with passphrase secret-pass-123.
const induction = Buffer.from(
  '800000000000000000000652000000000000000400000002569c7527000005dc000020000000000113877e73000000000100007f000000000000000000000000',
  'hex',
);
const conclusion = Buffer.from(
  '80000000000000000000a49b000000000000000500020003569c7527000005dc00002000ffffffff13877e7385f11e320100007f0000000000000000000000000001000300010501000000bf007800000003000e122029010000000002000200000004043c216ad221186e0bb7ba6e871f5d78fda535aac2c26ebda8a1e60c0910fa112e098608bb68b59898',
  'hex',
);

const logLines: string[] = [];
const log = createLogger('debug', { write: (line: string) => void logLines.push(line) });

interface Push {
  code: number | null;
  stderr: string;
  ms: number;
}

/** Debian's ffmpeg as an SRT caller: test picture of `size` plus a tone, H.264 + AAC in MPEG-TS. */
function pushSrt(
  port: number,
  pass: string,
  seconds: number,
  options: { size?: string; streamId?: string; keyBytes?: 16 | 24 | 32; started?: (child: ChildProcess) => void } = {},
): Promise<Push> {
  const startedMs = Date.now();
  return new Promise((resolve, reject) => {
    // ffmpeg takes the query's values as written (no percent-decoding), as encoders' SRT URLs are typed.
    const query = `passphrase=${pass}&pbkeylen=${options.keyBytes ?? 16}${options.streamId ? `&streamid=${options.streamId}` : ''}`;
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${options.size ?? '320x240'}:rate=25`,
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '25',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-t',
        String(seconds),
        '-f',
        'mpegts',
        // Send what is queued before closing (live mode drops it by default), so every frame arrives.
        '-linger',
        '2',
        `srt://127.0.0.1:${port}?${query}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    options.started?.(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - startedMs }));
  });
}

/** The picture width ffmpeg's FLV muxer put in `onMetaData` (AMF0: "width" then a number). */
function metadataWidth(sink: RecordingSink): number | undefined {
  const script = sink.tags.find((t) => t.type === 18);
  if (!script) return undefined;
  const data = Buffer.from(script.data);
  const at = data.indexOf(Buffer.from([0x00, 0x05, ...Buffer.from('width'), 0x00]));
  return at < 0 ? undefined : data.readDoubleBE(at + 8);
}

function assertH264Aac(sink: RecordingSink, seconds: number): void {
  const video = sink.tags.filter((t) => t.type === 9);
  const audio = sink.tags.filter((t) => t.type === 8);
  assert.deepEqual([video[0].data[0], video[0].data[1]], [0x17, 0], 'AVC sequence header first');
  assert.equal(video[1].data[0] >> 4, 1, 'then a keyframe');
  const frames = video.filter((t) => t.data[1] === 1);
  assert.equal(frames.length, seconds * 25);
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i].timestampMs > frames[i - 1].timestampMs);
  assert.deepEqual([audio[0].data[0] >> 4, audio[0].data[1]], [10, 0], 'AAC sequence header first');
  assert.ok(audio.length > seconds * 40);
}

describe('SRT ingest: one UDP port for every event, the event found by its passphrase', () => {
  let server: SrtIngestServer;
  let eventA: IngestListener;
  let eventB: IngestListener;
  const authorizer = new TestAuthorizer();
  before(async () => {
    server = await createSrtIngestServer({ port: 0, host: '127.0.0.1', authorizer, log, backend: { restartDelayMs: 100 } });
    eventA = await server.open({ eventId: 'event-a', name: 'studio-a', passphrase: passA });
    eventB = await server.open({ eventId: 'event-b', name: 'studio-b', passphrase: passB });
  });
  after(async () => {
    await eventA.close();
    await eventB.close();
    await server.close();
  });

  it('listens on one port that every event reports', () => {
    assert.ok(server.port > 0);
    assert.deepEqual([eventA.port, eventB.port], [server.port, server.port]);
  });

  it('refuses a passphrase no running event has in the handshake (SRT_REJ_BADSECRET): nothing is admitted', async () => {
    const pushed = await pushSrt(server.port, 'not-the-passphrase', 2);
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, /Input\/output error/, pushed.stderr); // all ffmpeg 5.1 says of a refusal (codes: the raw test)
    assert.equal(authorizer.requests.length, 0);
    assert.ok(logLines.some((l) => l.includes('srt caller refused') && l.includes('bad-passphrase')));
    console.log(`wrong passphrase refused after ${pushed.ms} ms`);
  });

  it('two events at once on the one port each receive their own stream, admitted with the caller address', async () => {
    const [a, b] = await Promise.all([pushSrt(server.port, passA, 3, { size: '320x240' }), pushSrt(server.port, passB, 3, { size: '640x360' })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const sinkA = authorizer.sinks.get('event-a')![0];
    const sinkB = authorizer.sinks.get('event-b')![0];
    assert.equal(await sinkA.ended, 'closed');
    assert.equal(await sinkB.ended, 'closed');
    assertH264Aac(sinkA, 3);
    assertH264Aac(sinkB, 3);
    assert.equal(metadataWidth(sinkA), 320);
    assert.equal(metadataWidth(sinkB), 640);
    assert.deepEqual(authorizer.requests.map((r) => r.app).sort(), ['event-a', 'event-b']);
    for (const request of authorizer.requests)
      assert.deepEqual({ ...request, app: '' }, { protocol: 'SRT', app: '', streamKey: '', remoteAddress: '127.0.0.1' });
  });

  it('an encoder reconnects to its event and streams again', async () => {
    const next = authorizer.nextSink('event-a');
    const again = await pushSrt(server.port, passA, 2);
    assert.equal(again.code, 0, again.stderr);
    const sink = await next;
    assert.equal(await sink.ended, 'closed');
    assertH264Aac(sink, 2);
    assert.deepEqual(sink.ends, ['closed'], 'onEnd once per stream');
  });

  it('finds the event of an AES-256 caller (pbkeylen=32) too; its receiver takes the caller’s key length', async () => {
    const next = authorizer.nextSink('event-b');
    const pushed = await pushSrt(server.port, passB, 2, { keyBytes: 32 });
    assert.equal(pushed.code, 0, pushed.stderr);
    const sink = await next;
    assert.equal(await sink.ended, 'closed');
    assertH264Aac(sink, 2);
  });

  it('refuses a caller the authorizer turns down (IP allow list, busy) with a rejection, and logs no passphrase', async () => {
    authorizer.refuse.set('event-b', 'ip-denied');
    try {
      const before = authorizer.requests.length;
      const pushed = await pushSrt(server.port, passB, 2);
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /Input\/output error/, pushed.stderr);
      assert.deepEqual(authorizer.requests.slice(before), [{ protocol: 'SRT', app: 'event-b', streamKey: '', remoteAddress: '127.0.0.1' }]);
      assert.ok(logLines.some((l) => l.includes('srt caller refused') && l.includes('ip-denied')));
      console.log(`IP-denied caller refused after ${pushed.ms} ms: ${pushed.stderr.trim().split('\n').at(-1)}`);
    } finally {
      authorizer.refuse.delete('event-b');
    }
  });

  it('routes by a stream id naming the event (#!::r=name), still checking that event’s passphrase', async () => {
    const next = authorizer.nextSink('event-b');
    const named = await pushSrt(server.port, passB, 2, { streamId: '#!::r=studio-b,m=publish' });
    assert.equal(named.code, 0, named.stderr);
    const sink = await next;
    assert.equal(await sink.ended, 'closed');
    assert.equal(authorizer.requests.at(-1)?.streamKey, '#!::r=studio-b,m=publish');
    const before = authorizer.requests.length;
    const wrong = await pushSrt(server.port, passA, 2, { streamId: '#!::r=studio-b' });
    assert.notEqual(wrong.code, 0);
    assert.equal(authorizer.requests.length, before, 'event A’s passphrase does not open event B');
  });

  it("drops the stream when the authorizer kicks it ('kicked'); the event takes an encoder again", async () => {
    const next = authorizer.nextSink('event-a');
    const pushed = pushSrt(server.port, passA, 6);
    const sink = await next;
    await sink.firstTag;
    authorizer.kicks.at(-1)?.();
    assert.equal(await sink.ended, 'kicked');
    await pushed; // the encoder sees its connection end
    const again = authorizer.nextSink('event-a');
    const next2 = await pushSrt(server.port, passA, 2);
    assert.equal(next2.code, 0, next2.stderr);
    assert.equal(await (await again).ended, 'closed');
    assert.deepEqual(sink.ends, ['kicked']);
  });

  it('a caller arriving as its event opens waits for the receiver’s ffmpeg to listen', async () => {
    const eventE = await server.open({ eventId: 'event-e', name: 'studio-e', passphrase: passC });
    try {
      const next = authorizer.nextSink('event-e');
      const pushed = await pushSrt(server.port, passC, 2); // no wait: ffmpeg is still starting
      assert.equal(pushed.code, 0, pushed.stderr);
      const sink = await next;
      assert.equal(await sink.ended, 'closed');
      assertH264Aac(sink, 2);
    } finally {
      await eventE.close();
    }
  });

  it('refuses the passphrase of an event that stopped (its route is gone)', async () => {
    const eventC = await server.open({ eventId: 'event-c', name: 'studio-c', passphrase: passC });
    await eventC.close();
    const pushed = await pushSrt(server.port, passC, 2);
    assert.notEqual(pushed.code, 0);
    assert.ok(!authorizer.requests.some((r) => r.app === 'event-c'));
  });

  it('ends a stream whose encoder goes silent as idle', async () => {
    const idleAuthorizer = new TestAuthorizer();
    const idleServer = await createSrtIngestServer({ port: 0, host: '127.0.0.1', authorizer: idleAuthorizer, log, idleTimeoutMs: 1000 });
    const idleEvent = await idleServer.open({ eventId: 'event-idle', name: 'idle', passphrase: passA });
    let encoder: ChildProcess | undefined;
    try {
      const next = idleAuthorizer.nextSink('event-idle');
      const pushed = pushSrt(idleServer.port, passA, 30, { started: (child) => (encoder = child) });
      const sink = await next;
      await sink.firstTag;
      encoder?.kill('SIGSTOP'); // still connected, sending nothing
      assert.equal(await sink.ended, 'idle');
      encoder?.kill('SIGKILL');
      await pushed;
    } finally {
      encoder?.kill('SIGKILL');
      await idleEvent.close();
      await idleServer.close();
    }
  });

  it('answers the handshake itself and refuses with SRT rejection codes (captured ffmpeg packets, raw UDP)', async () => {
    // ffmpeg 5.1 reports any refusal as "Input/output error"; the codes are checked on the wire instead.
    const caller = dgram.createSocket('udp4');
    caller.bind(0, '127.0.0.1');
    await once(caller, 'listening');
    const exchange = async (packet: Buffer): Promise<Buffer> => {
      caller.send(packet, server.port, '127.0.0.1');
      const [reply] = (await once(caller, 'message')) as [Buffer];
      return reply;
    };
    try {
      const response = await exchange(induction);
      assert.deepEqual([response.readUInt32BE(16), response.readUInt16BE(22), response.readUInt32BE(36)], [5, 0x4a17, 1], 'HSv5 induction response');
      const cookie = response.readUInt32BE(44);
      const withCookie = Buffer.from(conclusion);
      withCookie.writeUInt32BE(cookie, 44);
      const askedMs = performance.now();
      assert.equal((await exchange(withCookie)).readUInt32BE(36), 1010, 'SRT_REJ_BADSECRET');
      console.log(`rejection answered ${(performance.now() - askedMs).toFixed(1)} ms after the conclusion (every running event's passphrase tried)`);
      assert.equal((await exchange(withCookie)).readUInt32BE(36), 1010, 'a retransmitted conclusion gets the same answer');

      const noKey = Buffer.from(withCookie.subarray(0, 80)); // the HSREQ extension only
      noKey.writeUInt32BE(0x56aa0001, 40); // another caller socket
      assert.equal((await exchange(noKey)).readUInt32BE(36), 1011, 'SRT_REJ_UNSECURE without key material');

      const eventD = await server.open({ eventId: 'event-d', name: 'studio-d', passphrase: 'secret-pass-123' });
      authorizer.refuse.set('event-d', 'ip-denied');
      try {
        const again = Buffer.from(withCookie);
        again.writeUInt32BE(0x56aa0002, 40);
        assert.equal((await exchange(again)).readUInt32BE(36), 1000 + 1403, 'SRT_REJX_FORBIDDEN for an address the allow list refuses');
        authorizer.refuse.set('event-d', 'busy');
        again.writeUInt32BE(0x56aa0003, 40);
        assert.equal((await exchange(again)).readUInt32BE(36), 1000 + 1409, 'SRT_REJX_CONFLICT while the event has an encoder');
      } finally {
        authorizer.refuse.delete('event-d');
        await eventD.close();
      }
      const forged = Buffer.from(conclusion);
      forged.writeUInt32BE(0x56aa0004, 40);
      forged.writeUInt32BE((cookie + 1) >>> 0, 44);
      caller.send(forged, server.port, '127.0.0.1');
      const silent = await Promise.race([once(caller, 'message').then(() => 'answered'), new Promise((r) => setTimeout(() => r('dropped'), 500))]);
      assert.equal(silent, 'dropped', 'a conclusion without our cookie is dropped, as libsrt does');
    } finally {
      caller.close();
    }
  });

  it('many callers at once each get their own answer (raw UDP, 64 callers with the captured handshake)', async () => {
    const callers = await Promise.all(
      Array.from({ length: 64 }, async () => {
        const caller = dgram.createSocket('udp4');
        caller.bind(0, '127.0.0.1');
        await once(caller, 'listening');
        return caller;
      }),
    );
    try {
      const answers = await Promise.all(
        callers.map(async (caller, i) => {
          caller.send(induction, server.port, '127.0.0.1');
          const [response] = (await once(caller, 'message')) as [Buffer];
          const request = Buffer.from(conclusion);
          request.writeUInt32BE(0x70000000 + i, 40); // its own socket id
          request.writeUInt32BE(response.readUInt32BE(44), 44); // its own cookie
          caller.send(request, server.port, '127.0.0.1');
          const [answer] = (await once(caller, 'message')) as [Buffer];
          return [answer.readUInt32BE(12) - 0x70000000, answer.readUInt32BE(36)];
        }),
      );
      assert.deepEqual(
        answers,
        callers.map((_, i) => [i, 1010]),
        'each caller is refused (no running event has the passphrase), addressed to its own socket',
      );
    } finally {
      for (const caller of callers) caller.close();
    }
  });

  it('never logs a passphrase', () => {
    assert.ok(logLines.length > 0);
    for (const pass of [passA, passB, passC]) assert.ok(!logLines.join('').includes(pass));
  });
});

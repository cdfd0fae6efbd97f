import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../../shared/log.js';
import { FlvStreamReader } from '../flv-stream-reader.js';
import type { FlvTag, IngestAdmission, IngestAuthorizer, IngestListener, IngestRequest, IngestSink } from '../ingest-contracts.js';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Value } from './amf0.js';
import { ChunkStreamReader, encodeChunks, type RtmpMessage } from './chunk-stream.js';
import { createRtmpListener, type RtmpListenerOptions } from './rtmp-server.js';

const token = 'tok-5f2b8c0e9d7a4c1b';

/** A sink that records what reaches it and resolves `ended` on its (only) onEnd. */
class RecordingSink implements IngestSink {
  readonly tags: FlvTag[] = [];
  readonly ends: string[] = [];
  #resolveEnded!: (reason: string) => void;
  readonly ended = new Promise<string>((resolve) => (this.#resolveEnded = resolve));
  onTag(tag: FlvTag): void {
    this.tags.push(tag);
  }
  onEnd(reason: 'closed' | 'idle' | 'error' | 'kicked'): void {
    this.ends.push(reason);
    this.#resolveEnded(reason);
  }
}

/** The seam: admits the app `token` (any key), refuses everything else as an unknown token. */
class TestAuthorizer implements IngestAuthorizer {
  readonly requests: IngestRequest[] = [];
  readonly sinks: RecordingSink[] = [];
  kick: (() => void) | undefined;
  #admitted: Array<(sink: RecordingSink) => void> = [];

  admit(request: IngestRequest, kick: () => void): Promise<IngestAdmission | { refused: 'unknown-token' }> {
    this.requests.push(request);
    if (request.app !== token && request.streamKey !== token) return Promise.resolve({ refused: 'unknown-token' });
    const sink = new RecordingSink();
    this.sinks.push(sink);
    this.kick = kick;
    for (const waiter of this.#admitted.splice(0)) waiter(sink);
    return Promise.resolve({ sink, eventId: 'event-1' });
  }

  /** The next sink handed out. */
  nextSink(): Promise<RecordingSink> {
    return new Promise((resolve) => this.#admitted.push(resolve));
  }
}

const logLines: string[] = [];
const log = createLogger('debug', { write: (line: string) => void logLines.push(line) });

async function listen(authorizer: IngestAuthorizer, extra: Partial<RtmpListenerOptions> = {}): Promise<IngestListener> {
  return createRtmpListener({ port: 0, host: '127.0.0.1', authorizer, log, ...extra });
}

function ffmpeg(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const lavfiInputs = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const h264Aac = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k'];

/** A raw RTMP publisher: handshake, connect, createStream, publish, then whatever the test sends. */
class RawPublisher {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  readonly messages: RtmpMessage[] = [];
  #handshakeLeft = 1 + 2 * 1536;
  readonly #reader = new ChunkStreamReader((m) => this.messages.push(m));

  constructor(port: number, app: string, streamName: string, connectExtras: Record<string, Amf0Value> = {}) {
    this.socket = net.connect(port, '127.0.0.1');
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('error', () => undefined);
    this.socket.on('data', (bytes: Buffer) => {
      const skip = Math.min(this.#handshakeLeft, bytes.byteLength);
      this.#handshakeLeft -= skip;
      if (skip < bytes.byteLength) this.#reader.push(bytes.subarray(skip));
    });
    const command = (csid: number, streamId: number, ...values: Parameters<typeof encodeAmf0>) =>
      encodeChunks({ csid, typeId: 20, streamId, timestampMs: 0, payload: encodeAmf0(...values) }, 128);
    this.socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536)]));
    this.socket.write(command(3, 0, 'connect', 1, { app, type: 'nonprivate', tcUrl: `rtmp://127.0.0.1:${port}/${app}`, ...connectExtras }));
    this.socket.write(command(3, 0, 'createStream', 2, null));
    this.socket.write(command(8, 1, 'publish', 3, null, streamName, 'live'));
  }

  send(typeId: number, payload: Uint8Array, streamId = 0): void {
    this.socket.write(encodeChunks({ csid: 2, typeId, streamId, timestampMs: 0, payload }, 128));
  }

  /** Resolves once a message of `typeId` (and passing `test`) has arrived (checked on every read). */
  async waitFor(typeId: number, test: (m: RtmpMessage) => boolean = () => true): Promise<RtmpMessage> {
    for (;;) {
      const found = this.messages.find((m) => m.typeId === typeId && test(m));
      if (found) return found;
      await new Promise((resolve) => this.socket.once('data', resolve));
    }
  }

  sendVideo(timestampMs: number, body: Uint8Array): void {
    this.socket.write(encodeChunks({ csid: 6, typeId: 9, streamId: 1, timestampMs, payload: body }, 128));
  }

  /** The `code`s of the onStatus messages received so far. */
  statusCodes(): string[] {
    return this.messages
      .filter((m) => m.typeId === 20)
      .map((m) => decodeAmf0(m.payload))
      .filter((v) => v[0] === 'onStatus')
      .map((v) => (v[3] as { code: string }).code);
  }
}

describe('RTMP listener', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-rtmp-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('admits an ffmpeg publish at rtmp://host/{token}/stream and hands the pipeline its FLV tags', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const sinkPromise = authorizer.nextSink();
      const pushed = await ffmpeg([...lavfiInputs, ...h264Aac, '-t', '4', '-f', 'flv', `rtmp://127.0.0.1:${listener.port}/${token}/stream`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const sink = await sinkPromise;
      assert.equal(await sink.ended, 'closed');
      assert.deepEqual(authorizer.requests, [{ protocol: 'RTMP', app: token, streamKey: 'stream', remoteAddress: '127.0.0.1' }]);

      const video = sink.tags.filter((t) => t.type === 9);
      const audio = sink.tags.filter((t) => t.type === 8);
      const data = sink.tags.filter((t) => t.type === 18);
      assert.deepEqual([video[0].data[0], video[0].data[1]], [0x17, 0], 'first video tag: AVC sequence header (keyframe, AVC, type 0)');
      assert.equal(video[1].data[0] >> 4, 1, 'first coded frame is a keyframe');
      const frames = video.filter((t) => t.data[1] === 1);
      assert.equal(frames.length, 100, '4 s at 25 fps');
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i].timestampMs > frames[i - 1].timestampMs, `frame ${i} timestamp increases`);
      assert.deepEqual([audio[0].data[0] >> 4, audio[0].data[1]], [10, 0], 'first audio tag: AAC sequence header');
      assert.ok(audio.filter((t) => t.data[1] === 1).length > 100, 'AAC frames (~47 a second)');
      const metadata = decodeAmf0(data[0].data);
      assert.equal(metadata[0], 'onMetaData', 'the @setDataFrame wrapper is gone: the body is an FLV script tag');
      assert.ok(metadata[1] instanceof Amf0EcmaArray);
      assert.equal(metadata[1].entries.width, 640);
      assert.deepEqual(sink.ends, ['closed'], 'onEnd exactly once');
    } finally {
      await listener.close();
    }
  });

  it('hands over the very tag bodies of an FLV file pushed with -c copy, byte for byte', async () => {
    const file = path.join(dir, 'source.flv');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...lavfiInputs.filter((a) => a !== '-re'), ...h264Aac, '-t', '3', '-y', file]);
    const expected: FlvTag[] = [];
    new FlvStreamReader((t) => expected.push(t)).push(fs.readFileSync(file));

    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const sinkPromise = authorizer.nextSink();
      const pushed = await ffmpeg(['-re', '-i', file, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${listener.port}/${token}/stream`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const sink = await sinkPromise;
      await sink.ended;
      const media = (tags: FlvTag[]) => tags.filter((t) => t.type !== 18).map((t) => ({ type: t.type, timestampMs: t.timestampMs, data: Buffer.from(t.data) }));
      const want = media(expected);
      const got = media(sink.tags);
      assert.equal(got.length, want.length, 'as many audio and video tags as the file has');
      assert.ok(want.filter((t) => t.type === 9).length >= 75);
      assert.deepEqual(got, want);
    } finally {
      await listener.close();
    }
  });

  it('hands over every tag of a file pushed far faster than real time (no -re), up to the last one', async () => {
    // 20 s of 1280x720 at a few Mbit/s: ffmpeg pushes it in well under a second and closes at once.
    const file = path.join(dir, 'fast.flv');
    execFileSync('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=1280x720:rate=25',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
      ],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-b:v', '6M', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-t', '20', '-y', file],
    ]);
    const expected: FlvTag[] = [];
    new FlvStreamReader((t) => expected.push(t)).push(fs.readFileSync(file));
    const media = (tags: FlvTag[]) => tags.filter((t) => t.type !== 18);
    // The loss depended on timing (the last Acknowledgement against the close): a few rounds, each lost seconds before.
    for (let round = 0; round < 3; round++) {
      const authorizer = new TestAuthorizer();
      const listener = await listen(authorizer);
      try {
        const sinkPromise = authorizer.nextSink();
        const pushed = await ffmpeg(['-i', file, '-c', 'copy', '-f', 'flv', `rtmp://127.0.0.1:${listener.port}/${token}/stream`]);
        assert.equal(pushed.code, 0, pushed.stderr);
        const sink = await sinkPromise;
        const reason = await sink.ended;
        assert.equal(reason, 'closed', 'the encoder closed cleanly, not with a reset');
        const got = media(sink.tags);
        const want = media(expected);
        assert.equal(got.length, want.length, `round ${round}: every audio and video tag arrives (ended ${reason})`);
        assert.deepEqual(Buffer.from(got[got.length - 1].data), Buffer.from(want[want.length - 1].data), 'the last tag whole');
      } finally {
        await listener.close();
      }
    }
  });

  it('refuses a publish the authorizer turns down: ffmpeg fails, no tag reaches a sink, the token is not logged', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    const linesBefore = logLines.length;
    const wrong = 'wrong-9c4e1f0a7b3d';
    try {
      const pushed = await ffmpeg([...lavfiInputs, ...h264Aac, '-t', '2', '-f', 'flv', `rtmp://127.0.0.1:${listener.port}/${wrong}/stream`]);
      assert.notEqual(pushed.code, 0);
      assert.match(pushed.stderr, /NetStream\.Publish\.BadName|Publish refused/);
      assert.deepEqual(
        authorizer.requests.map((r) => r.app),
        [wrong],
      );
      assert.equal(authorizer.sinks.length, 0);
      const lines = logLines.slice(linesBefore).join('');
      assert.match(lines, /rtmp publish refused/);
      assert.match(lines, /unknown-token/);
      assert.match(lines, /127\.0\.0\.1/);
      assert.ok(!lines.includes(wrong), 'the app (an access token) is never logged');
      assert.ok(!lines.includes(token));
    } finally {
      await listener.close();
    }
  });

  it('accepts rtmp://host/live/{token} (app live, key = token, ?query cut off)', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const sinkPromise = authorizer.nextSink();
      const publisher = new RawPublisher(listener.port, 'live', `${token}?obs=1`);
      const sink = await sinkPromise;
      assert.deepEqual(authorizer.requests, [{ protocol: 'RTMP', app: 'live', streamKey: token, remoteAddress: '127.0.0.1' }]);
      publisher.sendVideo(0, Uint8Array.from([0x17, 0, 0, 0, 0, 1, 2, 3]));
      publisher.socket.end();
      assert.equal(await sink.ended, 'closed');
      assert.deepEqual(sink.tags, [{ type: 9, timestampMs: 0, data: Uint8Array.from([0x17, 0, 0, 0, 0, 1, 2, 3]) }]);
      await publisher.closed;
      assert.ok(publisher.statusCodes().includes('NetStream.Publish.Start'));
    } finally {
      await listener.close();
    }
  });

  it("answers an Enhanced RTMP connect's fourCcList with the video codecs it takes, and a classic connect without one", async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const connectResult = async (extras: Record<string, Amf0Value>) => {
        const sinkPromise = authorizer.nextSink();
        const publisher = new RawPublisher(listener.port, token, 'stream', extras);
        const sink = await sinkPromise;
        const result = await publisher.waitFor(20, (m) => decodeAmf0(m.payload)[0] === '_result' && decodeAmf0(m.payload)[1] === 1);
        publisher.socket.end();
        await sink.ended;
        return decodeAmf0(result.payload)[2] as Record<string, unknown>;
      };
      assert.deepEqual((await connectResult({ fourCcList: ['av01', 'hvc1', 'vp09', 'avc1'] })).fourCcList, ['hvc1', 'avc1']);
      assert.deepEqual((await connectResult({ fourCcList: ['*'] })).fourCcList, ['avc1', 'hvc1', 'hev1']);
      const classic = await connectResult({});
      assert.equal(classic.fourCcList, undefined);
      assert.equal(classic.fmsVer, 'FMS/3,0,1,123');
    } finally {
      await listener.close();
    }
  });

  it('answers pings and acknowledges every window of bytes the publisher asked for', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const sinkPromise = authorizer.nextSink();
      const publisher = new RawPublisher(listener.port, token, 'stream');
      const sink = await sinkPromise;
      publisher.send(4, Uint8Array.from([0, 6, 0x12, 0x34, 0x56, 0x78])); // Ping Request
      const pong = await publisher.waitFor(4, (m) => m.payload[1] === 7);
      assert.deepEqual([...pong.payload], [0, 7, 0x12, 0x34, 0x56, 0x78], 'Ping Response with the same time');
      publisher.send(5, Uint8Array.from([0, 0, 0x10, 0])); // Window Acknowledgement Size 4096
      publisher.sendVideo(40, new Uint8Array(5000));
      const ack = await publisher.waitFor(3);
      assert.ok(new DataView(ack.payload.buffer).getUint32(0) > 4096, 'sequence number: bytes received so far');
      const windowAck = publisher.messages.find((m) => m.typeId === 5);
      assert.equal(windowAck && new DataView(windowAck.payload.buffer).getUint32(0), 2_500_000, 'our window, announced at connect');
      publisher.socket.end();
      await sink.ended;
      assert.equal(sink.tags.length, 1);
      assert.equal(sink.tags[0].data.byteLength, 5000);
    } finally {
      await listener.close();
    }
  });

  it('drops a publisher that goes silent after the idle timeout', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer, { idleTimeoutMs: 500 });
    try {
      const sinkPromise = authorizer.nextSink();
      const publisher = new RawPublisher(listener.port, token, 'stream');
      const sink = await sinkPromise;
      publisher.sendVideo(0, Uint8Array.from([0x17, 0, 0, 0, 0]));
      assert.equal(await sink.ended, 'idle');
      await publisher.closed;
      assert.deepEqual(sink.ends, ['idle']);
    } finally {
      await listener.close();
    }
  });

  it("closes the connection when the authorizer kicks the stream, and ends it as 'kicked'", async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    try {
      const sinkPromise = authorizer.nextSink();
      const publisher = new RawPublisher(listener.port, token, 'stream');
      const sink = await sinkPromise;
      await publisher.waitFor(20, (m) => decodeAmf0(m.payload)[0] === 'onStatus'); // publishing
      publisher.sendVideo(0, Uint8Array.from([0x17, 0, 0, 0, 0]));
      authorizer.kick?.();
      assert.equal(await sink.ended, 'kicked');
      await publisher.closed;
      assert.deepEqual(sink.ends, ['kicked']);

      // Kicked while the authorizer is still answering: the sink it handed out is ended all the same.
      const early = authorizer.nextSink();
      const second = new RawPublisher(listener.port, token, 'stream');
      const earlySink = await early;
      authorizer.kick?.();
      assert.equal(await earlySink.ended, 'kicked');
      await second.closed;
      assert.deepEqual(earlySink.tags, []);
    } finally {
      await listener.close();
    }
  });

  it("ends live streams as 'closed' when the listener closes", async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer);
    const sinkPromise = authorizer.nextSink();
    const publisher = new RawPublisher(listener.port, token, 'stream');
    const sink = await sinkPromise;
    await publisher.waitFor(20, (m) => decodeAmf0(m.payload)[0] === 'onStatus');
    await listener.close();
    assert.equal(await sink.ended, 'closed');
    await publisher.closed;
  });

  it('speaks RTMPS with a certificate, reporting protocol RTMPS', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert], {
      stdio: 'ignore',
    });
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer, { tls: { cert: fs.readFileSync(cert), key: fs.readFileSync(key) } });
    try {
      const sinkPromise = authorizer.nextSink();
      const pushed = await ffmpeg([...lavfiInputs, ...h264Aac, '-t', '2', '-f', 'flv', `rtmps://127.0.0.1:${listener.port}/${token}/stream`]);
      assert.equal(pushed.code, 0, pushed.stderr);
      const sink = await sinkPromise;
      assert.equal(await sink.ended, 'closed');
      assert.deepEqual(authorizer.requests, [{ protocol: 'RTMPS', app: token, streamKey: 'stream', remoteAddress: '127.0.0.1' }]);
      assert.equal(sink.tags.filter((t) => t.type === 9 && t.data[1] === 1).length, 50);
    } finally {
      await listener.close();
    }
  });

  it('closes a connection that does not publish in time, and one that does not speak RTMP 3', async () => {
    const authorizer = new TestAuthorizer();
    const listener = await listen(authorizer, { publishTimeoutMs: 300 });
    try {
      const idle = net.connect(listener.port, '127.0.0.1');
      idle.on('error', () => undefined);
      idle.resume(); // read (and drop) S0–S2, so the server's close is seen
      idle.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536), Buffer.alloc(1536)]));
      await new Promise((resolve) => idle.on('close', resolve));

      const http = net.connect(listener.port, '127.0.0.1');
      http.on('error', () => undefined);
      http.resume();
      http.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((resolve) => http.on('close', resolve));
      assert.equal(authorizer.requests.length, 0);
    } finally {
      await listener.close();
    }
  });
});

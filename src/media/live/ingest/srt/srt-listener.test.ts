import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../../../shared/log.js';
import type { FlvTag, IngestAdmission, IngestAuthorizer, IngestListener, IngestRequest, IngestSink } from '../ingest-contracts.js';
import { createSrtListener, findFreeUdpPort } from './srt-listener.js';

const passphrase = 'srt-pass-4b7e9a1c2d';
const eventId = 'event-srt-1';

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

/** The seam: admits every stream of its event, with a new sink each time. */
class TestAuthorizer implements IngestAuthorizer {
  readonly requests: IngestRequest[] = [];
  readonly sinks: RecordingSink[] = [];
  readonly kicks: Array<() => void> = [];
  #waiters: Array<(sink: RecordingSink) => void> = [];
  admit(request: IngestRequest, kick: () => void): Promise<IngestAdmission> {
    this.requests.push(request);
    const sink = new RecordingSink();
    this.sinks.push(sink);
    this.kicks.push(kick);
    for (const waiter of this.#waiters.splice(0)) waiter(sink);
    return Promise.resolve({ sink, eventId: request.app });
  }
  nextSink(): Promise<RecordingSink> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

const logLines: string[] = [];
const log = createLogger('debug', { write: (line: string) => void logLines.push(line) });

/** True while some process has the UDP port bound (ffmpeg's listener), from the kernel's socket table. */
function isUdpPortBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  return ['/proc/net/udp', '/proc/net/udp6'].some((file) => {
    try {
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .slice(1)
        .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex.trim()));
    } catch {
      return false;
    }
  });
}

async function waitForUdpPort(port: number, bound: boolean): Promise<void> {
  while (isUdpPortBound(port) !== bound) await sleep(50);
}

function pushSrt(port: number, pass: string, seconds: number, started?: (child: ChildProcess) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
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
        'testsrc2=size=320x240:rate=25',
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
        '-passphrase',
        pass,
        '-pbkeylen',
        '16',
        // Send what is queued before closing (live mode drops it by default), so every frame arrives.
        '-linger',
        '2',
        `srt://127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    started?.(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
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

describe('SRT listener (ffmpeg)', () => {
  let listener: IngestListener;
  let port: number;
  const authorizer = new TestAuthorizer();
  before(async () => {
    port = await findFreeUdpPort('127.0.0.1', 20_000 + Math.floor(Math.random() * 20_000));
    listener = await createSrtListener({ port, host: '127.0.0.1', passphrase, eventId, authorizer, log, restartDelayMs: 100 });
    await waitForUdpPort(port, true);
  });
  after(async () => {
    await listener.close();
    assert.equal(isUdpPortBound(port), false, 'close() stops ffmpeg');
  });

  it('refuses a caller with the wrong passphrase in the SRT handshake: nothing is admitted', async () => {
    const pushed = await pushSrt(port, 'not-the-passphrase', 2);
    assert.notEqual(pushed.code, 0);
    assert.equal(authorizer.requests.length, 0);
  });

  it('admits an encoder with the passphrase and hands over H.264 + AAC FLV tags; it can reconnect', async () => {
    const pushed = await pushSrt(port, passphrase, 3);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(authorizer.requests, [{ protocol: 'SRT', app: eventId, streamKey: '', remoteAddress: '' }]);
    const first = authorizer.sinks[0];
    assert.equal(await first.ended, 'closed');
    assertH264Aac(first, 3);

    await waitForUdpPort(port, true); // the listener is listening again
    const again = await pushSrt(port, passphrase, 2);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(authorizer.requests.length, 2);
    const second = authorizer.sinks[1];
    assert.equal(await second.ended, 'closed');
    assertH264Aac(second, 2);
    assert.deepEqual([...first.ends, ...second.ends], ['closed', 'closed'], 'onEnd once per stream');
  });

  it("drops the stream when the authorizer kicks it ('kicked') and listens again", async () => {
    const sinkPromise = authorizer.nextSink();
    const pushed = pushSrt(port, passphrase, 4);
    const sink = await sinkPromise;
    await sink.firstTag;
    authorizer.kicks.at(-1)?.();
    assert.equal(await sink.ended, 'kicked');
    await pushed; // the encoder sees its connection end
    await waitForUdpPort(port, true);
    const again = authorizer.nextSink();
    const next = await pushSrt(port, passphrase, 2);
    assert.equal(next.code, 0, next.stderr);
    const sinkAgain = await again;
    assert.equal(await sinkAgain.ended, 'closed');
    assert.deepEqual(sink.ends, ['kicked']);
  });

  it('ends a stream whose encoder goes silent as idle', async () => {
    const idlePort = await findFreeUdpPort('127.0.0.1', port + 1);
    const idleAuthorizer = new TestAuthorizer();
    const idleListener = await createSrtListener({
      port: idlePort,
      host: '127.0.0.1',
      passphrase,
      eventId,
      authorizer: idleAuthorizer,
      log,
      idleTimeoutMs: 1000,
    });
    let encoder: ChildProcess | undefined;
    try {
      await waitForUdpPort(idlePort, true);
      const sinkPromise = idleAuthorizer.nextSink();
      const pushed = pushSrt(idlePort, passphrase, 30, (child) => (encoder = child));
      const sink = await sinkPromise;
      await sink.firstTag;
      encoder?.kill('SIGSTOP'); // still connected, sending nothing
      assert.equal(await sink.ended, 'idle');
      encoder?.kill('SIGKILL');
      await pushed;
    } finally {
      encoder?.kill('SIGKILL');
      await idleListener.close();
    }
  });

  it('never logs the passphrase', () => {
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.join('').includes(passphrase));
  });
});

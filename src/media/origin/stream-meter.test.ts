import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { StreamedIncrement } from '../../store/usage-repository.js';
import type { EndpointView } from './playback-resolver.js';
import { StreamMeter } from './stream-meter.js';

describe('StreamMeter', () => {
  it('adds what each response wrote to its endpoint, keeps a failed flush for the next, and counts a response once', async () => {
    const flushed: StreamedIncrement[][] = [];
    let failNext = true;
    const meter = new StreamMeter(
      async (increments) => {
        if (failNext) {
          failNext = false;
          throw new Error('database away');
        }
        flushed.push(increments);
      },
      () => undefined,
      60_000,
      () => new Date('2026-03-04T12:00:00Z'),
    );
    const endpoint: EndpointView = { name: 'ep', state: 'Running', properties: {} };
    const body = Buffer.alloc(100_000, 7);
    let closed = 0;
    let allClosed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allClosed = resolve));
    const server = http.createServer((req, res) => {
      meter.track(res, 'project-1', endpoint);
      res.on('close', () => {
        if (++closed === 3) allClosed();
      });
      meter.track(res, 'project-1', endpoint);
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal((await res.arrayBuffer()).byteLength, body.length);
      }
      await done;
      await meter.flush();
      assert.equal(flushed.length, 0);
      await meter.close();
      assert.equal(flushed.length, 1);
      const [only] = flushed[0];
      assert.deepEqual({ ...only, bytes: 0 }, { projectId: 'project-1', endpointName: 'ep', day: '2026-03-04', bytes: 0 });
      // Three bodies and three status lines with headers.
      assert.ok(only.bytes >= 3 * body.length && only.bytes < 3 * body.length + 3 * 512, String(only.bytes));
    } finally {
      server.close();
    }
  });

  it('counts a response its client cut off by what left the process, not by what it had queued', async () => {
    const flushed: StreamedIncrement[] = [];
    const meter = new StreamMeter(
      async (increments) => {
        flushed.push(...increments);
      },
      () => undefined,
      60_000,
    );
    const endpoint: EndpointView = { name: 'ep', state: 'Running', properties: {} };
    // Far more than the kernel's socket buffers hold, written at once as the origin writes a segment.
    const body = Buffer.alloc(48 * 1024 * 1024, 7);
    let closed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (closed = resolve));
    const server = http.createServer((req, res) => {
      meter.track(res, 'project-1', endpoint);
      res.on('close', () => closed());
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      let received = 0;
      const client = net.connect(port, '127.0.0.1', () => client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      await new Promise<void>((resolve) =>
        client.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received < 256 * 1024) return;
          client.pause();
          resolve();
        }),
      );
      client.resetAndDestroy();
      await done;
      await meter.close();
      assert.equal(flushed.length, 1);
      assert.ok(flushed[0].bytes >= received, `counted ${flushed[0].bytes}, received ${received}`);
      assert.ok(flushed[0].bytes < body.length, `counted ${flushed[0].bytes} of a ${body.length}-byte body the client cut off`);
    } finally {
      server.close();
    }
  });
});

import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { SegmentBody } from './segment-body.js';

/**
 * Writes a body of views with one gathered write (corked), outside Fastify's serializer; headers set on the
 * reply so far go with it. The body's pooled buffers stay retained until the socket is done with them.
 */
export function sendSegmentBody(reply: FastifyReply, body: SegmentBody): FastifyReply {
  void reply.hijack();
  writeSegmentBody(reply.raw, reply.statusCode, reply.getHeaders() as Record<string, string>, body);
  return reply;
}

/** The raw write behind `sendSegmentBody`: status line, headers and every view of the body in one corked write. */
export function writeSegmentBody(res: ServerResponse, status: number, headers: Record<string, string>, body: SegmentBody): void {
  body.retain();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    body.releaseRef();
  };
  res.once('finish', release);
  res.once('close', release);
  res.writeHead(status, headers);
  res.cork();
  for (const chunk of body.chunks) res.write(chunk);
  res.end();
  res.uncork();
}

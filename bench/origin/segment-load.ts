/**
 * Load for the origin benchmark. Segments are ~1.3 MB: autocannon (bench/support/run-load.ts) tops out near
 * 30 MB/s on such bodies with its one core saturated, so it measures itself, not the server. wrk (C, epoll;
 * `apt-get install wrk`) moves several GB/s on one thread, so the load generator here is `wrk -t1`, with a Lua
 * script cycling over the request paths and printing its summary as JSON.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SegmentLoadResult {
  reqPerSec: number;
  /** Response bytes (headers and body) per second, as wrk counted them. */
  bytesPerSec: number;
  requests: number;
  /** wrk's latency percentiles (request sent → response complete), ms. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  durationSec: number;
  /** CPU of the load generator (wrk), in cores: near 1 means wrk, not the server, may be the limit. */
  loadgenCores: number;
}

const luaString = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

function script(paths: string[], headers: Record<string, string>, method: 'GET' | 'POST', body: string | undefined): string {
  return `local method = ${luaString(method)}
local body = ${body === undefined ? 'nil' : luaString(body)}
local paths = {
${paths.map((p) => `  ${luaString(p)},`).join('\n')}
}
local headers = {
${Object.entries(headers)
  .map(([k, v]) => `  [${luaString(k)}] = ${luaString(v)},`)
  .join('\n')}
}
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format(method, paths[i], headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('@@WRK {"requests":%d,"bytes":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

/** CPU (ms) of this process's reaped children: wrk's CPU is the difference across its run (Linux; 0 elsewhere). */
function childrenCpuMs(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return 0;
  }
}

/** One `wrk -t1` run; fails on any socket error, timeout or non-2xx/3xx reply. */
export async function runSegmentLoad(options: {
  url: string;
  paths: string[];
  connections: number;
  durationSec: number;
  /** Request headers (e.g. Accept-Encoding: gzip, as players send). */
  headers?: Record<string, string>;
  /** GET by default; POST sends `body` with every request (a licence request). */
  method?: 'GET' | 'POST';
  body?: string;
}): Promise<SegmentLoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reel-wrk-'));
  const file = path.join(dir, 'cycle.lua');
  fs.writeFileSync(file, script(options.paths, options.headers ?? {}, options.method ?? 'GET', options.body));
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', ['-t1', `-c${options.connections}`, `-d${options.durationSec}s`, '--timeout', '10s', '-s', file, options.url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('error', (err) => reject(new Error(`wrk could not start (apt-get install wrk): ${err.message}`)));
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrk exited ${code}: ${stderr}${stdout}`))));
    });
    const line = out.split('\n').find((l) => l.startsWith('@@WRK '));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const r = JSON.parse(line.slice(6)) as Record<string, number>;
    const errors = r.connect + r.read + r.write + r.status + r.timeout;
    if (errors > 0) throw new Error(`${options.url}${options.paths[0]}…: wrk saw errors: ${line.slice(6)}`);
    const sec = r.durationUs / 1e6;
    return {
      reqPerSec: r.requests / sec,
      bytesPerSec: r.bytes / sec,
      requests: r.requests,
      p50Ms: r.p50 / 1000,
      p90Ms: r.p90 / 1000,
      p99Ms: r.p99 / 1000,
      maxMs: r.max / 1000,
      durationSec: sec,
      loadgenCores: (childrenCpuMs() - cpuBefore) / (performance.now() - started),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export interface TimedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** From sending the request to the last body byte. */
  ms: number;
}

/** One GET on a kept-alive connection (a player's), timed to the last byte of the body. */
export function timedGet(url: string, headers: Record<string, string> = {}): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Like timedGet, but a non-200 answer is an error. */
export async function getOk(url: string, headers: Record<string, string> = {}): Promise<TimedResponse> {
  const res = await timedGet(url, headers);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${res.body.toString().slice(0, 300)}`);
  return res;
}

/**
 * One GET on a new connection over a raw socket (`Connection: close`), timed from connect to the server's close after
 * the last byte: a fresh server's first request without the HTTP client's own work (parser, chunk handling) in it.
 */
export function rawTimedGet(url: string): Promise<{ status: number; bytes: number; ms: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let head = '';
    let bytes = 0;
    const socket = net.connect(Number(u.port), u.hostname, () => {
      socket.setNoDelay(true);
      socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (c: Buffer) => {
      if (head.length < 16) head += c.subarray(0, 16).toString('latin1');
      bytes += c.length;
    });
    socket.on('end', () => {
      const ms = performance.now() - started;
      const status = Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1] ?? 0);
      if (status !== 200) reject(new Error(`GET ${url}: ${head.split('\r\n')[0] || 'no answer'}`));
      else resolve({ status, bytes, ms });
    });
    socket.on('error', reject);
  });
}

export function closeAgent(): void {
  agent.destroy();
}

/**
 * The nginx peers of the origin benchmark, each run from a config written into a temporary prefix at run time
 * (`nginx -p <dir> -c <dir>/nginx.conf -e <dir>/error.log`, master process and workers, not daemonised; pid,
 * logs and temp paths in that directory; access_log off):
 *
 *   static     Debian's nginx (/usr/sbin/nginx, or BENCH_NGINX) serving ffmpeg's pre-packaged HLS fMP4 files with
 *              sendfile: what serving pre-packaged segments costs at best.
 *   vod        nginx with kaltura/nginx-vod-module (REEL_BENCH_NGINX_VOD: an nginx binary built outside the
 *              repository, see docs/BENCHMARKS.md), vod_mode local over the same MP4s: HLS with fMP4 (CMAF)
 *              segments of 2 s, audio unmuxed like Reel's renditions, with the caches its README recommends
 *              (metadata, response, open_file_cache) and aio plus a thread pool for opens.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cpuMsOf, descendants } from '../support/process-tree.js';

export interface NginxPeerOptions {
  kind: 'static' | 'vod';
  binary: string;
  /** static: the directory served at `/`; vod: the MP4 store served at `/hls/<container>/<file>/…`. */
  root: string;
  workers: number;
  /** vod only: nginx's `aio` (on: the README's advice; threads; off). */
  aio?: string;
}

/** A port nobody listens on now (nginx binds it right after; a collision would fail loudly). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function config(o: NginxPeerOptions, dir: string, port: number): string {
  const location =
    o.kind === 'static'
      ? `    location / {
      root ${o.root};
    }`
      : `    location /hls/ {
      vod hls;
      vod_mode local;
      alias ${o.root}/;
      vod_hls_container_format fmp4;
      vod_hls_force_unmuxed_segments on;
      vod_hls_absolute_master_urls off;
      vod_hls_absolute_index_urls off;
      vod_segment_duration 2000;
      vod_align_segments_to_key_frames on;
      vod_metadata_cache metadata_cache 512m;
      vod_response_cache response_cache 128m;
      vod_open_file_thread_pool default_pool;
      aio ${o.aio ?? 'on'};
    }`;
  return `# written by bench/origin/nginx-peer.ts for one run
${process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : ''}worker_processes ${o.workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${o.kind === 'vod' ? 'thread_pool default_pool threads=32 max_queue=65536;\n' : ''}events {
  worker_connections 4096;
  multi_accept on;
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    video/mp4 mp4 m4s;
  }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 60;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=5m;
  open_file_cache_valid 2m;
  open_file_cache_min_uses 1;
  open_file_cache_errors on;
  server {
    listen 127.0.0.1:${port};
${location}
  }
}
`;
}

async function waitListening(port: number, child: ChildProcess, errorLog: string, timeoutMs = 10_000): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8').slice(-2000) : ''}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() - started > timeoutMs) throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface NginxPeer {
  url: string;
  /** The master's pid. */
  pid: number;
  /** Master and workers. */
  pids(): number[];
  cpuMs(): number;
  version: string;
  stop(): Promise<void>;
}

/** Starts nginx and resolves once it accepts connections (the moment a "fresh process" measurement starts from). */
export async function startNginx(o: NginxPeerOptions): Promise<NginxPeer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reel-bench-nginx-${o.kind}-`));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config(o, dir, port));
  const errorLog = path.join(dir, 'error.log');
  const child = spawn(o.binary, ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned || child.pid === undefined) throw new Error(`${o.binary} could not start: ${spawned?.message ?? 'no pid'}`);
  const pid = child.pid;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGQUIT'); // graceful: the master stops its workers
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(port, child, errorLog);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}${stderr ? `\n${stderr}` : ''}`, { cause: err });
  }
  const pids = () => [pid, ...descendants(pid)];
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    pids,
    cpuMs: () => cpuMsOf(pids()),
    version: nginxVersion(o.binary),
    stop,
  };
}

const versions = new Map<string, string>();
export function nginxVersion(binary: string): string {
  let v = versions.get(binary);
  if (v === undefined) {
    // nginx -v prints on stderr; spawnSync is fine here, between measurements.
    const out = spawnSync(binary, ['-v'], { encoding: 'utf8' });
    v = out.error ? 'unknown' : out.stderr.trim().replace(/^nginx version: /, '');
    versions.set(binary, v);
  }
  return v;
}

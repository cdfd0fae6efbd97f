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
 *              (metadata, response, open_file_cache), in its fastest configuration measured here (vodDefaults).
 * Both: `gzip on` for playlists when asked (players send Accept-Encoding: gzip).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cpuMsOf, descendants } from '../support/process-tree.js';
import { freePort } from '../support/free-port.js';

export interface NginxPeerOptions {
  kind: 'static' | 'vod';
  binary: string;
  /** static: the directory served at `/`; vod: the MP4 store served at `/hls/<container>/<file>/…`. */
  root: string;
  workers: number;
  /** vod only: nginx's `aio` (on: the README's advice; threads; off). Default: see vodDefaults. */
  aio?: string;
  /** vod only: `vod_open_file_thread_pool` (opens in a thread; the module then bypasses open_file_cache). */
  openFilePool?: boolean;
  /** vod only: more directives for its location (e.g. `vod_output_buffer_pool 64k 32;`). */
  vodExtra?: string;
  /** `gzip on` for playlists (Accept-Encoding: gzip requests get compressed bodies). */
  gzip?: boolean;
  /** glibc malloc tunables for nginx (inherited by the forked workers); default: vodDefaults.malloc for vod. */
  malloc?: Record<string, string>;
  /** Wait until every worker is up and accepting before resolving (default true). */
  waitWorkers?: boolean;
}

/** nginx-vod's tuned defaults (see docs/BENCHMARKS.md "nginx-vod configuration"): the fastest measured here. */
export const vodDefaults = {
  aio: 'off',
  openFilePool: false,
  // nginx-vod reads each segment's frames into fresh 256 KB pool buffers: with glibc's defaults the freed heap top is
  // trimmed and re-faulted on every request (perf: page faults inside the file read were a third of its CPU).
  malloc: { MALLOC_TRIM_THRESHOLD_: String(256 << 20), MALLOC_TOP_PAD_: String(64 << 20), MALLOC_MMAP_THRESHOLD_: String(32 << 20) } as Record<string, string>,
};

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
${(o.openFilePool ?? vodDefaults.openFilePool) ? '      vod_open_file_thread_pool default_pool;\n' : ''}      aio ${o.aio ?? vodDefaults.aio};
${o.vodExtra ? `      ${o.vodExtra}\n` : ''}    }`;
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
${o.gzip ? '  gzip on;\n  gzip_types application/vnd.apple.mpegurl application/dash+xml;\n' : ''}  server {
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

/** Whether `pid` has created its epoll instance (an nginx worker does so in its init, then adds the listeners). */
function hasEpoll(pid: number): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:[eventpoll]';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * The master accepts TCP connects on its listening socket as soon as it binds it, before it has forked its workers:
 * a request sent then waits for a worker to start. Waits until `workers` worker processes each have their epoll
 * instance (Linux /proc; a no-op elsewhere), then one more poll interval for them to register the listeners.
 * Touches nothing served: no cache is warmed.
 */
async function waitWorkers(pid: number, workers: number, timeoutMs = 10_000): Promise<void> {
  if (!fs.existsSync(`/proc/${pid}`)) return;
  const started = performance.now();
  for (;;) {
    const ready = descendants(pid).filter(hasEpoll).length;
    if (ready >= workers) break;
    if (performance.now() - started > timeoutMs) throw new Error(`nginx: ${ready} of ${workers} workers ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 5));
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

/** Starts nginx and resolves once its workers accept connections (the moment a "fresh process" measurement starts from). */
export async function startNginx(o: NginxPeerOptions): Promise<NginxPeer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reel-bench-nginx-${o.kind}-`));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config(o, dir, port));
  const errorLog = path.join(dir, 'error.log');
  const child = spawn(o.binary, ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(o.malloc ?? (o.kind === 'vod' ? vodDefaults.malloc : {})) },
  });
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
    if (o.waitWorkers !== false) await waitWorkers(pid, o.workers);
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

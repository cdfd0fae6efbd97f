import autocannon from 'autocannon';

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Request paths; the connections split them between themselves and each cycles over its share. */
  paths: string[];
  connections: number;
  durationSec: number;
  headers?: Record<string, string>;
  /** Seconds before autocannon gives up on one response (default 60: tails of seconds are results, not errors). */
  timeoutSec?: number;
}

export interface LoadResult {
  /** 2xx responses per second over the run. */
  reqPerSec: number;
  /** Latency of every 2xx response, ms (sub-millisecond resolution, unlike autocannon's own histogram). */
  latenciesMs: number[];
  durationSec: number;
  /** CPU the load generator used, as a share of one core (1 = a whole core: the generator may be the limit). */
  loadgenCores: number;
}

/**
 * One autocannon run, in this process, against a server in another process. Fails on any error, timeout
 * or non-2xx reply: a benchmark of failing requests measures nothing.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let client = 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSec,
        headers: options.headers,
        timeout: options.timeoutSec ?? 60,
        // Static per-connection request lists (pre-encoded once), so varying the path costs the generator nothing.
        setupClient: (c) => {
          const mine = options.paths.filter((_, i) => i % options.connections === client % options.connections);
          client++;
          c.setRequests((mine.length > 0 ? mine : options.paths).map((path) => ({ method: 'GET', path })));
        },
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_c: autocannon.Client, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTimeMs);
    });
  });
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${options.url}${options.paths[0]}…: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx replies (${JSON.stringify(result.statusCodeStats)})`,
    );
  }
  return {
    reqPerSec: latenciesMs.length / result.duration,
    latenciesMs,
    durationSec: result.duration,
    loadgenCores: (cpu.user + cpu.system) / 1000 / wallMs,
  };
}

/** The q-quantile (0 ≤ q ≤ 1) of `sortedMs`, nearest-rank. */
export function quantile(sortedMs: Float64Array, q: number): number {
  if (sortedMs.length === 0) return NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.max(0, Math.ceil(q * sortedMs.length) - 1))];
}

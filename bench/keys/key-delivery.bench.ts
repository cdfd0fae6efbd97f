/**
 * Key delivery benchmark: validated key and licence requests per second (issue 13 aims at ≥ 2,000/s on this
 * machine), against a bare node:http peer answering the same URLs with the same bytes and no validation.
 *
 * Process layout (2 cores): this process runs autocannon; Reel's key delivery (createHttpServer + the plugin over an
 * in-memory ProtectionLookup, bundled as `npm start` runs it) and the peer each run in a child process. Every request
 * carries the token and is validated in full (signature, issuer, audience, times, key id claim): verdicts are not
 * cached between requests, only the imported keys are.
 *
 *   npx tsx bench/keys/key-delivery.bench.ts        (or: npx tsx bench/run.ts keys)
 *
 * Knobs: BENCH_ROUNDS (2), BENCH_DURATION_S (8), BENCH_WARMUP_S (2), BENCH_CONNECTIONS (32), BENCH_RECORD (1).
 * Results: stdout table + bench/results/keys.jsonl.
 */
import autocannon from 'autocannon';
import { BenchChild } from '../support/bench-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { foreignCores, sampleCpu } from '../support/machine-load.js';
import { keyDeliveryPaths } from '../../src/shared/content-protection.js';
import { makeKeyFixtures, tokenFor } from './key-fixtures.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  rounds: Number(env('BENCH_ROUNDS', '2')),
  durationSec: Number(env('BENCH_DURATION_S', '8')),
  warmupSec: Number(env('BENCH_WARMUP_S', '2')),
  connections: Number(env('BENCH_CONNECTIONS', '32')),
  record: env('BENCH_RECORD', '1') !== '0',
};
const aimReqPerSec = 2000;
const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Scenario {
  name: string;
  what: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Run {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCores: number;
  otherCores: number | undefined;
}

async function load(url: string, s: Scenario, durationSec: number): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `${url}${s.path}`,
    method: s.method,
    headers: s.headers,
    ...(s.body !== undefined ? { body: s.body } : {}),
    connections: settings.connections,
    duration: durationSec,
  });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0)
    throw new Error(
      `${s.name} at ${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)})`,
    );
  return result;
}

async function measure(child: BenchChild, url: string, s: Scenario, ownPids: number[]): Promise<Run> {
  const cpuBefore = await child.cpuMs();
  const machineBefore = sampleCpu(ownPids);
  const started = performance.now();
  const r = await load(url, s, settings.durationSec);
  const machineAfter = sampleCpu(ownPids);
  const serverCores = ((await child.cpuMs()) - cpuBefore) / (performance.now() - started);
  return {
    reqPerSec: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    serverCores,
    otherCores: foreignCores(machineBefore, machineAfter),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const environment = benchEnvironment();
  say(
    `keys: ${environment.cpu} ×${environment.cpuCount}, node ${environment.node}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}`,
  );
  const f = makeKeyFixtures();
  const [hsEnvelope, rsEnvelope, openEnvelope, hsCenc] = f.keys;
  const b64url = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');
  const scenarios: Scenario[] = [
    { name: 'aes-open', what: 'GET AES key, open restriction', method: 'GET', path: keyDeliveryPaths.aes(f.locatorId, openEnvelope.id), headers: {} },
    {
      name: 'aes-hs256',
      what: 'GET AES key, HS256 JWT (Bearer)',
      method: 'GET',
      path: keyDeliveryPaths.aes(f.locatorId, hsEnvelope.id),
      headers: { authorization: `Bearer ${await tokenFor(f, hsEnvelope.id, 'HS256')}` },
    },
    {
      name: 'aes-rs256',
      what: 'GET AES key, RS256 JWT (Bearer)',
      method: 'GET',
      path: keyDeliveryPaths.aes(f.locatorId, rsEnvelope.id),
      headers: { authorization: `Bearer ${await tokenFor(f, rsEnvelope.id, 'RS256')}` },
    },
    {
      name: 'clearkey-hs256',
      what: 'POST ClearKey licence (1 kid), HS256 JWT',
      method: 'POST',
      path: keyDeliveryPaths.clearKey(f.locatorId),
      headers: { authorization: `Bearer ${await tokenFor(f, hsCenc.id, 'HS256')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kids: [b64url(hsCenc.id)], type: 'temporary' }),
    },
  ];

  const reel = BenchChild.start('bench/keys/reel-key-server.ts', [], { label: 'reel key delivery', compiled: true });
  const bare = BenchChild.start('bench/keys/bare-key-server.ts', [], { label: 'bare node:http', compiled: true });
  const rows: string[][] = [
    ['scenario', 'Reel req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'bare req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'req/s ratio', 'other CPU', 'aim'],
  ];
  try {
    const { url: reelUrl } = await reel.call<{ url: string }>('listen', f);
    // The peer answers with exactly what Reel answered.
    const gets: Record<string, Buffer> = {};
    const posts: Record<string, string> = {};
    for (const s of scenarios) {
      const res = await fetch(`${reelUrl}${s.path}`, { method: s.method, headers: s.headers, body: s.body });
      if (res.status !== 200) throw new Error(`${s.name}: Reel answered ${res.status}: ${await res.text()}`);
      if (s.method === 'GET') gets[s.path] = Buffer.from(await res.arrayBuffer());
      else posts[s.path] = await res.text();
    }
    const { url: bareUrl } = await bare.call<{ url: string }>('listen', { gets, posts });
    const ownPids = [process.pid, reel.pid, bare.pid].filter((p): p is number => p !== undefined);
    for (const s of scenarios) {
      for (const url of [reelUrl, bareUrl]) await load(url, s, settings.warmupSec);
      const runs: { reel: Run[]; bare: Run[] } = { reel: [], bare: [] };
      for (let r = 0; r < settings.rounds; r++) {
        const sides = [
          ['reel', reel, reelUrl],
          ['bare', bare, bareUrl],
        ] as const;
        for (const [side, child, url] of r % 2 === 0 ? sides : [...sides].reverse()) {
          const run = await measure(child, url, s, ownPids);
          runs[side].push(run);
          say(
            `${s.name} round ${r + 1}/${settings.rounds} ${side}: ${round(run.reqPerSec, 0)} req/s, p99 ${run.p99Ms} ms${run.otherCores !== undefined ? `, other processes ${run.otherCores.toFixed(2)} cores` : ''}`,
          );
        }
      }
      // CPU per request (server CPU time ÷ requests) is the figure least moved by other processes on the machine.
      const sum = (xs: Run[]) => ({
        reqPerSec: median(xs.map((x) => x.reqPerSec)),
        p50Ms: median(xs.map((x) => x.p50Ms)),
        p99Ms: median(xs.map((x) => x.p99Ms)),
        serverCores: median(xs.map((x) => x.serverCores)),
        cpuUsPerRequest: median(xs.map((x) => (x.serverCores / x.reqPerSec) * 1e6)),
      });
      const a = sum(runs.reel);
      const b = sum(runs.bare);
      const other = [...runs.reel, ...runs.bare].map((x) => x.otherCores);
      const otherCores = other.some((x) => x === undefined) ? null : Math.max(...(other as number[]));
      const met = s.name === 'aes-open' ? undefined : a.reqPerSec >= aimReqPerSec;
      if (settings.record)
        appendResult('keys.jsonl', {
          ...environment,
          bench: 'keys/key-delivery',
          scenario: s.name,
          what: s.what,
          connections: settings.connections,
          rounds: settings.rounds,
          durationSec: settings.durationSec,
          reel: {
            reqPerSec: round(a.reqPerSec, 1),
            p50Ms: a.p50Ms,
            p99Ms: a.p99Ms,
            serverCores: round(a.serverCores),
            cpuUsPerRequest: round(a.cpuUsPerRequest, 1),
          },
          peer: {
            name: 'bare node:http, same bytes, no validation',
            reqPerSec: round(b.reqPerSec, 1),
            p50Ms: b.p50Ms,
            p99Ms: b.p99Ms,
            serverCores: round(b.serverCores),
            cpuUsPerRequest: round(b.cpuUsPerRequest, 1),
          },
          ratio: { reqPerSec: round(a.reqPerSec / b.reqPerSec, 3), reqPerSecBetter: 'higher' },
          otherCores: otherCores === null ? null : round(otherCores),
          ...(met !== undefined ? { aim: `≥ ${aimReqPerSec} validated req/s`, aimMet: met } : {}),
        });
      rows.push([
        s.name,
        a.reqPerSec.toFixed(0),
        a.p50Ms.toFixed(1),
        a.p99Ms.toFixed(1),
        a.cpuUsPerRequest.toFixed(0),
        b.reqPerSec.toFixed(0),
        b.p50Ms.toFixed(1),
        b.p99Ms.toFixed(1),
        b.cpuUsPerRequest.toFixed(0),
        `${(a.reqPerSec / b.reqPerSec).toFixed(2)}×`,
        otherCores === null ? '-' : otherCores.toFixed(2),
        met === undefined ? '' : `${met ? 'met' : 'MISSED'}: ≥ ${aimReqPerSec}/s`,
      ]);
    }
  } finally {
    await Promise.all([reel.stop(), bare.stop()]);
  }
  process.stdout.write(`\nKey delivery vs a bare node:http peer with the same bytes (ratio = Reel ÷ bare, higher is better)\n${formatTable(rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`keys bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

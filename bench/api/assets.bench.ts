/**
 * Control-plane benchmark: GET one asset, and list a 1,000-asset page, of a 10,000-asset project, on SQLite
 * and on PostgreSQL, against a bare Fastify route serving the same bodies from memory (the peer).
 *
 * Process layout (2 cores): this process runs autocannon; Reel and the peer each run in a child process,
 * so the load generator and the server under test never share an event loop. PostgreSQL, when used, runs
 * on the same machine and competes for the same cores, as it would in a one-box install.
 *
 *   npx tsx bench/api/assets.bench.ts        (or all benchmarks: npx tsx bench/run.ts)
 *
 * Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION_S (10), BENCH_WARMUP_S (2),
 * BENCH_DIALECTS (sqlite,postgres), BENCH_SCENARIOS (all), BENCH_ASSETS (10000), BENCH_PROFILE (a directory:
 * CPU-profile the Reel process; nothing is recorded then), BENCH_MAX_OTHER_CPU (0.25 cores), BENCH_RETRIES (2),
 * BENCH_QUIET_WAIT_S (120; 0 = never wait), BENCH_RECORD (1; 0 = print only). Results: stdout table + bench/results/api.jsonl.
 */
import { BenchChild } from '../support/bench-child.js';
import { appendResult, benchEnvironment, formatTable } from '../support/bench-results.js';
import { quantile, runLoad, type LoadResult } from '../support/run-load.js';
import { foreignCores, sampleCpu, waitForQuiet } from '../support/machine-load.js';
import type { BenchDialect, SeededReel } from '../support/reel-server.js';
import type { BareBodies } from '../support/bare-server.js';

const env = (name: string, fallback: string) => process.env[name] || fallback;
const settings = {
  assets: Number(env('BENCH_ASSETS', '10000')),
  connections: 32,
  rounds: Number(env('BENCH_ROUNDS', '3')),
  durationSec: Number(env('BENCH_DURATION_S', '10')),
  warmupSec: Number(env('BENCH_WARMUP_S', '2')),
  dialects: env('BENCH_DIALECTS', 'sqlite,postgres')
    .split(',')
    .map((d) => d.trim()) as BenchDialect[],
  scenarios: env('BENCH_SCENARIOS', 'asset-get,asset-list-1000,asset-list-1000-sequential')
    .split(',')
    .map((d) => d.trim()),
  /** BENCH_RECORD=0 for trial runs; a profiled server is slower, so its numbers are never recorded. */
  record: env('BENCH_RECORD', '1') !== '0' && !process.env.BENCH_PROFILE,
  /** A round during which other processes used more than this many cores is repeated (see machine-load.ts). */
  maxForeignCores: Number(env('BENCH_MAX_OTHER_CPU', '0.25')),
  retries: Number(env('BENCH_RETRIES', '2')),
  quietWaitSec: Number(env('BENCH_QUIET_WAIT_S', '120')),
};
const pageSize = 1000;

interface Scenario {
  name: string;
  what: string;
  connections: number;
  paths(seeded: SeededReel): string[];
  /** The issue's aim for this scenario, if it sets one. */
  aim?(dialect: BenchDialect, reel: Summary): { text: string; met: boolean } | undefined;
}

const listPath = (s: SeededReel) => `/api/ams/${s.project}/assets?$top=${pageSize}`;
const scenarios: Scenario[] = [
  {
    name: 'asset-get',
    what: `GET /assets/{name}, cycling over all ${settings.assets} names`,
    connections: settings.connections,
    paths: (s) => s.names.map((n) => `/api/ams/${s.project}/assets/${n}`),
    aim: (dialect, r) => (dialect === 'sqlite' ? { text: '≥5000 req/s, p99 <20 ms', met: r.reqPerSec >= 5000 && r.p99Ms < 20 } : undefined),
  },
  {
    name: 'asset-list-1000',
    what: `GET /assets?$top=${pageSize} (first page of ${settings.assets})`,
    connections: settings.connections,
    paths: (s) => [listPath(s)],
  },
  {
    name: 'asset-list-1000-sequential',
    what: `GET /assets?$top=${pageSize}, one request at a time`,
    connections: 1,
    paths: (s) => [listPath(s)],
    aim: (_d, r) => ({ text: 'page <50 ms (median)', met: r.p50Ms < 50 }),
  },
];

interface Summary {
  /** Median over rounds of each round's 2xx req/s. */
  reqPerSec: number;
  reqPerSecRounds: number[];
  /** Over every response of every round. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  /** CPU the server process used during the measured rounds, in cores (2 = both cores of this machine). */
  serverCores: number;
  /** CPU of the load generator, in cores; near 1 means autocannon, not the server, may be the limit. */
  loadgenCores: number;
  /** Worst CPU use by processes outside the benchmark during a kept round, in cores (null: not measurable). */
  otherCores: number | null;
}

interface Run extends LoadResult {
  serverCores: number;
  otherCores: number | undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const say = (line: string) => process.stderr.write(`${line}\n`);

function summarize(runs: Run[]): Summary {
  let total = 0;
  for (const r of runs) total += r.latenciesMs.length;
  const all = new Float64Array(total);
  let at = 0;
  for (const r of runs) {
    all.set(r.latenciesMs, at);
    at += r.latenciesMs.length;
  }
  all.sort();
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    reqPerSecRounds: runs.map((r) => round(r.reqPerSec, 1)),
    p50Ms: quantile(all, 0.5),
    p99Ms: quantile(all, 0.99),
    maxMs: all.length > 0 ? all[all.length - 1] : NaN,
    requests: total,
    serverCores: median(runs.map((r) => r.serverCores)),
    loadgenCores: Math.max(...runs.map((r) => r.loadgenCores)),
    otherCores: runs.some((r) => r.otherCores === undefined) ? null : Math.max(...runs.map((r) => r.otherCores as number)),
  };
}

/** Reads every page through the API (this also proves the seed and the nextLink chain), and the GET bodies. */
function rounded(x: Summary) {
  return {
    ...x,
    reqPerSec: round(x.reqPerSec, 1),
    p50Ms: round(x.p50Ms, 3),
    p99Ms: round(x.p99Ms, 3),
    maxMs: round(x.maxMs, 1),
    serverCores: round(x.serverCores),
    loadgenCores: round(x.loadgenCores),
    otherCores: x.otherCores === null ? null : round(x.otherCores),
  };
}

async function collectBodies(seeded: SeededReel): Promise<BareBodies> {
  const headers = { 'x-mkio-token': seeded.token };
  const getJson = async (path: string) => {
    const res = await fetch(`${seeded.url}${path}`, { headers });
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${await res.text()}`);
    return { text: await res.text() };
  };
  type Page = { value: Array<{ name: string }>; supplemental: { subscription: unknown; pagination: { total: number } }; '@odata.nextLink'?: string };
  const first = JSON.parse((await getJson(listPath(seeded))).text) as Page;
  const items: Array<{ name: string }> = [];
  for (let page: Page | undefined = first; page;) {
    items.push(...page.value);
    const next: string | undefined = page['@odata.nextLink'];
    page = next ? (JSON.parse((await getJson(next)).text) as Page) : undefined;
  }
  if (
    first.supplemental.pagination.total !== settings.assets ||
    items.length !== settings.assets ||
    first.value.length !== Math.min(pageSize, settings.assets)
  ) {
    throw new Error(
      `expected ${settings.assets} assets in pages of ${pageSize}; the API reports total ${first.supplemental.pagination.total}, listed ${items.length}`,
    );
  }
  // GET's body is the list item plus its supplemental; check that against the server for a few names.
  const assets: Record<string, unknown> = {};
  for (const item of items) assets[item.name] = { ...item, supplemental: { operation: 'get', subscription: first.supplemental.subscription } };
  for (const name of [seeded.names[0], seeded.names[Math.floor(settings.assets / 3)], seeded.names[settings.assets - 1]]) {
    const served = (await getJson(`/api/ams/${seeded.project}/assets/${name}`)).text;
    if (served !== JSON.stringify(assets[name])) throw new Error(`GET ${name} does not match its list item:\n${served}\n${JSON.stringify(assets[name])}`);
  }
  return { assets, page: first };
}

/** The peer must send the very bytes Reel sends, or the comparison is unfair. */
async function assertSameBytes(reelUrl: string, bareUrl: string, paths: string[], token: string): Promise<void> {
  for (const path of paths) {
    const [a, b] = await Promise.all([reelUrl, bareUrl].map(async (u) => (await fetch(`${u}${path}`, { headers: { 'x-mkio-token': token } })).text()));
    if (a !== b) throw new Error(`peer body differs from Reel's for ${path}`);
  }
}

interface Target {
  name: 'reel' | 'peer';
  child: BenchChild;
  url: string;
}

/**
 * One measured round of one side. Waits for the machine to be quiet first, and repeats the round (up to
 * BENCH_RETRIES times, keeping the quietest) when other processes took CPU during it.
 */
async function measure(t: Target, paths: string[], connections: number, token: string, ownPids: () => Promise<number[]>, label: string): Promise<Run> {
  let best: Run | undefined;
  for (let attempt = 0; attempt <= settings.retries; attempt++) {
    const pids = await ownPids();
    const waited = await waitForQuiet(() => pids, {
      thresholdCores: settings.maxForeignCores,
      maxWaitSec: settings.quietWaitSec,
      onWait: (cores) => say(`${label}: other processes use ${cores.toFixed(2)} cores; waiting up to ${settings.quietWaitSec} s for a quiet machine`),
    });
    if (waited > 0) say(`${label}: waited ${waited} s`);
    const cpuBefore = await t.child.cpuMs();
    const machineBefore = sampleCpu(pids);
    const started = performance.now();
    const load = await runLoad({ url: t.url, paths, connections, durationSec: settings.durationSec, headers: { 'x-mkio-token': token } });
    const machineAfter = sampleCpu(pids);
    const serverCores = ((await t.child.cpuMs()) - cpuBefore) / (performance.now() - started);
    const run: Run = { ...load, serverCores, otherCores: foreignCores(machineBefore, machineAfter) };
    if (!best || (run.otherCores ?? 0) < (best.otherCores ?? 0)) best = run;
    if (run.otherCores === undefined || run.otherCores <= settings.maxForeignCores) break;
    say(
      `${label}: other processes used ${run.otherCores.toFixed(2)} cores during the round${attempt < settings.retries ? '; repeating it' : '; keeping the quietest attempt'}`,
    );
  }
  return best as Run;
}

async function benchDialect(dialect: BenchDialect, environment: ReturnType<typeof benchEnvironment>): Promise<string[][]> {
  const rows: string[][] = [];
  // BENCH_PROFILE=<dir>: write a V8 CPU profile of the Reel process (open it in Chrome DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const reel = BenchChild.start('bench/support/reel-server.ts', [dialect], { label: `reel (${dialect})`, execArgv: profile });
  const bare = BenchChild.start('bench/support/bare-server.ts', [], { label: 'bare Fastify' });
  try {
    say(`[${dialect}] seeding ${settings.assets} assets…`);
    const seeded = await reel.call<SeededReel>('seed', { count: settings.assets });
    say(`[${dialect}] seeded in ${seeded.seedMs} ms; Reel at ${seeded.url}`);
    const bodies = await collectBodies(seeded);
    const peer = await bare.call<{ url: string; fastifyVersion: string }>('listen', bodies);
    await assertSameBytes(seeded.url, peer.url, [listPath(seeded), `/api/ams/${seeded.project}/assets/${seeded.names[7]}`], seeded.token);
    // Everything whose CPU is the benchmark's own: this process, both servers, and Reel's PostgreSQL backends.
    const ownPids = async () => [process.pid, reel.pid, bare.pid, ...(await reel.call<number[]>('dbPids'))].filter((p): p is number => p !== undefined);

    for (const scenario of scenarios.filter((sc) => settings.scenarios.includes(sc.name))) {
      const paths = scenario.paths(seeded);
      const targets: Target[] = [
        { name: 'reel', child: reel, url: seeded.url },
        { name: 'peer', child: bare, url: peer.url },
      ];
      for (const t of targets)
        await runLoad({ url: t.url, paths, connections: scenario.connections, durationSec: settings.warmupSec, headers: { 'x-mkio-token': seeded.token } });
      const runs: Record<Target['name'], Run[]> = { reel: [], peer: [] };
      for (let r = 0; r < settings.rounds; r++) {
        // Alternate who goes first, so a drift (thermal, a neighbour) does not favour one side.
        for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
          const label = `[${dialect}] ${scenario.name} round ${r + 1}/${settings.rounds} ${t.name}`;
          const run = await measure(t, paths, scenario.connections, seeded.token, ownPids, label);
          runs[t.name].push(run);
          say(
            `${label}: ${round(run.reqPerSec, 0)} req/s, p99 ${run.latenciesMs.length ? round(quantile(Float64Array.from(run.latenciesMs).sort(), 0.99)) : '-'} ms${run.otherCores !== undefined ? `, other processes ${run.otherCores.toFixed(2)} cores` : ''}`,
          );
        }
      }
      const s = summarize(runs.reel);
      const p = summarize(runs.peer);
      const aim = scenario.aim?.(dialect, s);
      if (settings.record)
        appendResult('api.jsonl', {
          ...environment,
          bench: 'api/assets',
          scenario: scenario.name,
          what: scenario.what,
          dialect,
          assets: settings.assets,
          connections: scenario.connections,
          rounds: settings.rounds,
          durationSec: settings.durationSec,
          warmupSec: settings.warmupSec,
          maxOtherCores: settings.maxForeignCores,
          reqPerSec: round(s.reqPerSec, 1),
          latencyMs: { p50: round(s.p50Ms, 3), p99: round(s.p99Ms, 3) },
          reel: rounded(s),
          peer: { name: 'bare Fastify route, body from memory', version: `fastify ${peer.fastifyVersion}`, ...rounded(p) },
          ratio: {
            reqPerSec: round(s.reqPerSec / p.reqPerSec, 3),
            reqPerSecBetter: 'higher',
            p50: round(s.p50Ms / p.p50Ms, 3),
            p99: round(s.p99Ms / p.p99Ms, 3),
            latencyBetter: 'lower',
          },
          ...(aim ? { aim: aim.text, aimMet: aim.met } : {}),
        });
      rows.push([
        dialect,
        scenario.name,
        String(scenario.connections),
        round(s.reqPerSec, 0).toFixed(0),
        s.p50Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        s.maxMs.toFixed(0),
        round(p.reqPerSec, 0).toFixed(0),
        p.p50Ms.toFixed(2),
        p.p99Ms.toFixed(2),
        `${(s.reqPerSec / p.reqPerSec).toFixed(2)}×`,
        `${(s.p99Ms / p.p99Ms).toFixed(2)}×`,
        s.serverCores.toFixed(2),
        s.loadgenCores.toFixed(2),
        s.otherCores === null || p.otherCores === null ? '-' : Math.max(s.otherCores, p.otherCores).toFixed(2),
        aim ? `${aim.met ? 'met' : 'MISSED'}: ${aim.text}` : '',
      ]);
    }
  } finally {
    await Promise.all([reel.stop(), bare.stop()]);
  }
  return rows;
}

async function main(): Promise<void> {
  const environment = benchEnvironment();
  say(
    `api/assets: ${environment.cpu} ×${environment.cpuCount}, node ${environment.node}, commit ${environment.commit.slice(0, 12)}${environment.dirty ? ' (dirty)' : ''}`,
  );
  say(`${settings.rounds} rounds × ${settings.durationSec} s per side after a ${settings.warmupSec} s warm-up; ${settings.assets} assets`);
  say(`a round is repeated (up to ${settings.retries}×) when other processes use more than ${settings.maxForeignCores} cores during it`);
  const rows: string[][] = [
    [
      'dialect',
      'scenario',
      'conns',
      'Reel req/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'bare req/s',
      'p50 ms',
      'p99 ms',
      'req/s ratio (↑)',
      'p99 ratio (↓)',
      'Reel CPU',
      'gen CPU',
      'other CPU',
      'aim',
    ],
  ];
  for (const dialect of settings.dialects) rows.push(...(await benchDialect(dialect, environment)));
  process.stdout.write(
    `\nControl-plane API vs a bare Fastify route (ratios are Reel ÷ bare; req/s higher is better, p99 lower is better)\n${formatTable(rows)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`api/assets bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

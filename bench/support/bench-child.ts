import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Repository root: children run from here so `--import tsx` resolves from node_modules. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Bundles already built by this process. */
const built = new Set<string>();

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/**
 * A server running in its own process (so it has a core of its own, apart from the load generator), driven
 * by request/reply messages over the IPC channel. The child side is `answerParent`.
 */
export class BenchChild {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
  ) {
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${label}: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${label} exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  /**
   * Forks `file` (relative to the repo root) under tsx; its stdout and stderr go to ours. With `compiled`, the
   * file is first bundled with esbuild (as `npm start` compiles the server) and run by plain node, so the
   * child's memory and start-up are the deployed server's, not tsx's.
   */
  static start(
    file: string,
    args: string[] = [],
    options: { label?: string; execArgv?: string[]; compiled?: boolean; env?: Record<string, string>; siblings?: string[] } = {},
  ): BenchChild {
    const label = options.label ?? path.basename(file);
    let entry = path.join(repoRoot, file);
    if (options.compiled) {
      const bundle = (source: string) => {
        const out = path.join(repoRoot, 'bench', '.build', `${path.basename(source, '.ts')}.mjs`);
        // Once per benchmark process: a run that starts many fresh servers does not rebuild for each.
        if (built.has(out)) return out;
        built.add(out);
        buildSync({
          entryPoints: [source],
          outfile: out,
          bundle: true,
          format: 'esm',
          platform: 'node',
          target: 'node20',
          packages: 'external',
          logLevel: 'warning',
        });
        return out;
      };
      entry = bundle(entry);
      // Entries the server forks by a path next to its own module (src/origin-main.ts): bundled beside it, when present.
      for (const sibling of options.siblings ?? []) if (fs.existsSync(path.join(repoRoot, sibling))) bundle(path.join(repoRoot, sibling));
    }
    const child = fork(entry, args, {
      cwd: repoRoot,
      execArgv: [...(options.compiled ? [] : ['--import', 'tsx']), ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, ...options.env },
    });
    return new BenchChild(child, label);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<T>(type: string, payload?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.label} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, type, payload });
    });
  }

  /** CPU time (user + system, ms) the child has used so far. */
  async cpuMs(): Promise<number> {
    return this.call<number>('cpu');
  }

  /** The child's `process.memoryUsage()`. */
  async memory(): Promise<NodeJS.MemoryUsage> {
    return this.call<NodeJS.MemoryUsage>('memory');
  }

  /** Asks the child to clean up and exit; kills it (by its own pid) if it does not within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('stop').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

export type Handlers = Record<string, (payload: unknown) => unknown>;

/**
 * Child side: answers the parent's calls with `handlers`. `cpu` and `memory` are built in; `stop` runs the given handler
 * (if any), replies, then exits. A lost parent, SIGINT or SIGTERM also end the child, after the same cleanup.
 */
export function answerParent(handlers: Handlers): void {
  if (!process.send) throw new Error('this file is a benchmark child process: start it through BenchChild');
  const send = (m: Reply) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));
  // One cleanup however many ways the end arrives (stop call, lost parent, signals): all wait for it.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= Promise.resolve()
      .then(() => handlers.stop?.(undefined))
      .then(() => undefined));
  process.on('message', async (m: { id: number; type: string; payload: unknown }) => {
    try {
      if (m.type === 'cpu') {
        const u = process.cpuUsage();
        await send({ id: m.id, ok: true, result: (u.user + u.system) / 1000 });
      } else if (m.type === 'memory') {
        await send({ id: m.id, ok: true, result: process.memoryUsage() });
      } else if (m.type === 'stop') {
        await stop();
        await send({ id: m.id, ok: true });
        process.exit(0);
      } else {
        const handler = handlers[m.type];
        if (!handler) throw new Error(`unknown call '${m.type}'`);
        await send({ id: m.id, ok: true, result: await handler(m.payload) });
      }
    } catch (err) {
      await send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(1));
  });
  // Ctrl-C reaches the whole process group: clean up (drop the database, remove the data dir) before going.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
}

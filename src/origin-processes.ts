import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Config } from './config/schema.js';
import type { Logger } from './shared/log.js';
import type { OriginChildMessage, OriginStartMessage } from './origin-main.js';

/** The child's entry next to this module: `src/origin-main.ts` under tsx, `dist/origin-main.js` in the bundle. */
const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), `origin-main${path.extname(fileURLToPath(import.meta.url))}`);

/** How long a child may take to stop after SIGTERM before it is killed. */
const stopTimeoutMs = 5000;
/** Restart back-off: doubles per death in a row from the first, capped; a child that lived this long resets it. */
const restartDelayMs = { first: 100, max: 10_000, healthyAfter: 30_000 };

/**
 * The runtime flags a child gets: the parent's (`--import tsx` in tests, memory flags in production) without those
 * that would make it something else or clash with the parent (the test runner's, an inspector's port).
 */
function childExecArgv(): string[] {
  // --expose-gc: the warm-up collects its garbage before listen (warm-up.ts), and an origin process collects once
  // when it falls idle (origin-main.ts). A young generation half npm start's: 25–40 MB less peak RSS per pair of
  // children at the same CPU per segment (V8 takes the last flag).
  return [...process.execArgv.filter((a) => !/^--(test|inspect|watch|experimental-test)/.test(a)), '--expose-gc', '--max-semi-space-size=8'];
}

/** The stream the parent's logger writes to: a child's JSON log lines join it as they are (they carry their own pid). */
function logStream(log: Logger): { write(line: string): void } {
  return (log as unknown as Record<symbol, { write(line: string): void }>)[pino.symbols.streamSym];
}

interface Child {
  process: ChildProcess;
  startedAt: number;
  listening: boolean;
  exited: Promise<void>;
}

/**
 * N origin-only processes (`origin-main.ts`) sharing one port through SO_REUSEPORT: each owns its listener and the
 * kernel spreads connections between them, so no process relays bytes for another. Started before the main
 * process reports itself running; a child that dies is replaced (with back-off); `close()` stops them all.
 */
export class OriginProcesses {
  readonly #children = new Set<Child>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #port = 0;
  #closing = false;
  #deathsInARow = 0;

  private constructor(
    private readonly config: Readonly<Config>,
    private readonly log: Logger,
    private readonly liveRelay: OriginStartMessage['liveRelay'],
  ) {}

  /** Starts `count` children on `port` (0 = any free port, which the first child picks for the others). */
  static async start(options: {
    config: Readonly<Config>;
    port: number;
    log: Logger;
    /** Where the children relay live playback (see `OriginStartMessage.liveRelay`). */
    liveRelay?: OriginStartMessage['liveRelay'];
  }): Promise<OriginProcesses> {
    const group = new OriginProcesses(options.config, options.log.child({ component: 'origin-processes' }), options.liveRelay);
    try {
      group.#port = await group.#spawn(options.port);
      await Promise.all(Array.from({ length: options.config.originProcesses - 1 }, () => group.#spawn(group.#port)));
    } catch (err) {
      await group.close();
      const e = err as NodeJS.ErrnoException;
      const where = `${options.config.host}:${options.port}`;
      throw new Error(
        e.code === 'EADDRINUSE'
          ? `the origin port ${where} is in use (REEL_ORIGIN_PORT; default PORT+1)`
          : `origin processes could not start on ${where}: ${e.message}`,
        { cause: err },
      );
    }
    group.log.info({ port: group.#port, processes: options.config.originProcesses, pids: group.pids() }, 'origin processes listening');
    return group;
  }

  /** The port every child listens on. */
  get port(): number {
    return this.#port;
  }

  /** Process ids of the children that are listening now. */
  pids(): number[] {
    return [...this.#children].filter((c) => c.listening && c.process.exitCode === null && c.process.signalCode === null).map((c) => c.process.pid!);
  }

  /** Forks one child and resolves with its port once it listens; rejects (the child gone) when it cannot. */
  #spawn(port: number): Promise<number> {
    const child = fork(entry, [], { execPath: process.execPath, execArgv: childExecArgv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const record: Child = {
      process: child,
      startedAt: Date.now(),
      listening: false,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    this.#children.add(record);
    const stream = logStream(this.log);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => stream.write(`${line}\n`));
    readline.createInterface({ input: child.stderr! }).on('line', (line) => this.log.warn({ pid: child.pid, stderr: line }, 'origin process stderr'));
    return new Promise<number>((resolve, reject) => {
      child.on('message', (message: OriginChildMessage) => {
        if (message.type === 'listening') {
          record.listening = true;
          resolve(message.port);
        } else {
          reject(Object.assign(new Error(message.message), { code: message.code }));
        }
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        this.#children.delete(record);
        if (!record.listening) {
          reject(new Error(`origin process exited before listening (${signal ?? `code ${code}`})`));
          return;
        }
        if (!this.#closing) this.#restartLater(Date.now() - record.startedAt, { pid: child.pid, code, signal });
      });
      child.send({ type: 'start', config: this.config, port, ...(this.liveRelay ? { liveRelay: this.liveRelay } : {}) } satisfies OriginStartMessage);
    });
  }

  /** A child died (or its replacement could not start): start another after a back-off that grows while they keep dying. */
  #restartLater(livedMs: number, details: Record<string, unknown>): void {
    this.#deathsInARow = livedMs >= restartDelayMs.healthyAfter ? 1 : this.#deathsInARow + 1;
    const delay = Math.min(restartDelayMs.first * 2 ** (this.#deathsInARow - 1), restartDelayMs.max);
    this.log.warn({ ...details, restartInMs: delay }, 'origin process gone; starting another');
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#closing) return;
      this.#spawn(this.#port).then(
        (port) => this.log.info({ port, pids: this.pids() }, 'origin process replaced'),
        (err: unknown) => {
          if (!this.#closing) this.#restartLater(0, { err });
        },
      );
    }, delay);
    this.#timers.add(timer);
  }

  /** Stops every child: SIGTERM, then SIGKILL after a timeout; resolves when all have exited. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.all(
      [...this.#children].map(async (c) => {
        if (c.process.exitCode !== null || c.process.signalCode !== null) return;
        c.process.kill('SIGTERM');
        const timer = setTimeout(() => c.process.kill('SIGKILL'), stopTimeoutMs);
        await c.exited;
        clearTimeout(timer);
      }),
    );
  }
}

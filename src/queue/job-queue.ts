/**
 * The work queue behind encoding. It carries job ids only; the job's own state (MK.IO `state`, progress,
 * outputs, errors) lives in the `jobs` table and is written by the runner. The queue's duties are delivery and
 * durability: an enqueued id is handed to exactly one worker at a time, and a worker that dies (crash, kill -9,
 * lost machine) loses its lease so the id is handed out again after the lease expires.
 */
export type QueuePriority = 'High' | 'Normal' | 'Low';

export interface QueueMessage {
  /** The Reel job id (jobs.id). */
  jobId: string;
  /** How many times this id has been handed out before (0 on the first delivery). */
  attempt: number;
}

/** One delivery of an id to one worker. Every method rejects with `LeaseLostError` once the lease was lost. */
export interface Lease {
  readonly message: QueueMessage;
  /** Keeps the lease alive; the runner calls it while ffmpeg runs. Rejects if the lease was lost. */
  heartbeat(): Promise<void>;
  /** The job reached a final state (Finished, Error or Canceled): remove it for good. */
  complete(): Promise<void>;
  /** Gives the id back for another delivery (e.g. on shutdown before the job finished). */
  release(): Promise<void>;
}

export interface JobQueue {
  /** Adds a job id. Durable when it resolves. Enqueuing an id that is already queued is a no-op. */
  enqueue(jobId: string, priority: QueuePriority): Promise<void>;
  /** Takes the next id (High before Normal before Low, then oldest first) or `undefined` when none is ready. */
  lease(workerId: string): Promise<Lease | undefined>;
  /** Removes a queued id that no worker holds (cancel before start). Returns false if absent or leased. */
  remove(jobId: string): Promise<boolean>;
  /** Starts whatever background maintenance the driver needs; called once by the worker role. */
  start?(): Promise<void>;
  close(): Promise<void>;
}

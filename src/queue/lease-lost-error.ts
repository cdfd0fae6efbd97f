import { ConflictError } from '../shared/errors.js';

/**
 * The holder of a lease acted on it after losing it: the lease expired and the id was handed to another worker
 * (or the same worker again), or the id was completed or removed. The runner must stop working on the job.
 */
export class LeaseLostError extends ConflictError {
  constructor(readonly jobId: string) {
    super('LeaseLost', `The lease on job '${jobId}' was lost to another delivery.`);
  }
}

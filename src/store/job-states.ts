/** MK.IO's job states; a job's single output shares its job's state. */
export const jobStates = ['Queued', 'Scheduled', 'Processing', 'Finished', 'Error', 'Canceling', 'Canceled'] as const;
export type JobState = (typeof jobStates)[number];
/** States a job never leaves. */
export type FinalJobState = 'Finished' | 'Error' | 'Canceled';
export type UnfinishedJobState = Exclude<JobState, FinalJobState>;

export const finalJobStates: ReadonlySet<JobState> = new Set<FinalJobState>(['Finished', 'Error', 'Canceled']);
export const unfinishedJobStates: readonly UnfinishedJobState[] = ['Queued', 'Scheduled', 'Processing', 'Canceling'];

export function isFinalJobState(state: JobState): state is FinalJobState {
  return finalJobStates.has(state);
}

/**
 * The job state machine: the states each state may move to, for the API (cancel) and the worker alike; every
 * change of a job's state goes through `JobRepository.transition`, which refuses a move not listed here.
 * - A worker schedules a job it leased; a re-delivered job (its earlier worker died, or lost its lease) is
 *   scheduled again from Scheduled or Processing, and starts over.
 * - A worker shutting down puts its jobs back to Queued.
 * - Cancel: a queued job nobody holds is Canceled at once; a held one goes to Canceling and its worker ends it.
 * - A worker ends a job (Finished, Error, Canceled) from whatever unfinished state it is in: a cancel arriving
 *   after the last upload does not undo the finished output, and another worker's shutdown may have put the
 *   job back to Queued meanwhile.
 */
export const jobTransitions: { readonly [S in JobState]: readonly JobState[] } = {
  Queued: ['Scheduled', 'Canceling', 'Canceled', 'Finished', 'Error'],
  Scheduled: ['Scheduled', 'Processing', 'Queued', 'Canceling', 'Finished', 'Error', 'Canceled'],
  Processing: ['Scheduled', 'Queued', 'Canceling', 'Finished', 'Error', 'Canceled'],
  Canceling: ['Canceled', 'Finished', 'Error'],
  Finished: [],
  Error: [],
  Canceled: [],
};

export function canMoveJob(from: JobState, to: JobState): boolean {
  return jobTransitions[from].includes(to);
}

/** Every state the machine lets move into `to`. */
export function jobStatesMovingInto(to: JobState): JobState[] {
  return jobStates.filter((from) => canMoveJob(from, to));
}

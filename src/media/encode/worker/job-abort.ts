/** Why a running job was stopped: canceled (or deleted) by a user, the process shutting down, or the lease lost. */
export class JobAbort extends Error {
  constructor(readonly kind: 'cancel' | 'shutdown' | 'lease') {
    super(`job ${kind}`);
    this.name = 'JobAbort';
  }
}

/** The abort behind a failure, if the attempt was stopped rather than failed. */
export function jobAbortOf(signal: AbortSignal, err: unknown): JobAbort | undefined {
  if (signal.aborted && signal.reason instanceof JobAbort) return signal.reason;
  return err instanceof JobAbort ? err : undefined;
}

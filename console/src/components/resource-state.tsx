import { Badge } from '@mantine/core';

/** States of resources that start and stop (streaming endpoints, live events, live outputs) and their colours. */
const stateColor: Record<string, string> = { Running: 'green', Stopped: 'gray', Starting: 'yellow', Stopping: 'yellow', Scaling: 'yellow', Deleting: 'red' };

/** States a resource leaves by itself: a page showing one polls until it settles, as the .NET client does. */
export const transitionalStates = new Set(['Starting', 'Stopping', 'Scaling', 'Restarting', 'Creating', 'Updating', 'Deleting']);

export function ResourceStateBadge({ state }: { state: string }) {
  return (
    <Badge color={stateColor[state] ?? 'gray'} variant="light" aria-label={`State: ${state}`}>
      {state}
    </Badge>
  );
}
